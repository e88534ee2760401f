# Multi-stage image for `api` and `worker` (the same image, two commands). Docker does not run on
# the project's CI machines, so this file is kept consistent with scripts/lib.sh by hand: the build
# stage needs the -dev packages, the runtime stage their runtime libraries plus pdftotext.
FROM swift:6.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libhiredis-dev libpq-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product worker && swift build -c release --product api \
    && mkdir /out && cp "$(swift build -c release --show-bin-path)"/worker "$(swift build -c release --show-bin-path)"/api /out/

FROM swift:6.1-bookworm-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends libhiredis0.14 libpq5 zlib1g poppler-utils ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /app app
COPY --from=build /out/ /usr/local/bin/
WORKDIR /app
USER app
ENV DATA_DIR=/app/data
# api: `api run --host 0.0.0.0` inside a container (the compose file publishes it on loopback only).
CMD ["worker", "run", "--rq", "--with-scheduler"]
