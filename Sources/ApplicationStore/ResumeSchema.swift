import Postgres

/// The résumé pipeline's database schema, as numbered migrations applied by ``PostgresMigrator``.
///
/// Tables: `job_posts` (what candidates apply to) and `applications` (one uploaded résumé each,
/// moving `PENDING → PROCESSING → COMPLETED | FAILED`). Indexes are the seed's: single-column on
/// `status`, `job_post_id`, `created_at`, `updated_at`, and composite on `(status, created_at)`,
/// `(job_post_id, status)`, `(email, created_at)`, `(status, updated_at)`.
public enum ResumeSchema {
    /// Every migration, in version order.
    public static let migrations: [PostgresMigration] = [
        PostgresMigration(version: 1, name: "create_job_posts_and_applications", sql: """
            CREATE TABLE job_posts (
                id uuid PRIMARY KEY,
                title text NOT NULL,
                description text NOT NULL,
                seniority_level text NOT NULL
                    CHECK (seniority_level IN ('JUNIOR', 'MID', 'SENIOR', 'LEAD')),
                embedding real[],
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            );

            CREATE TABLE applications (
                id uuid PRIMARY KEY,
                job_post_id uuid NOT NULL REFERENCES job_posts (id) ON DELETE CASCADE,
                candidate_name text NOT NULL,
                email text NOT NULL,
                seniority_level text NOT NULL
                    CHECK (seniority_level IN ('JUNIOR', 'MID', 'SENIOR', 'LEAD')),
                status text NOT NULL DEFAULT 'PENDING'
                    CHECK (status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')),
                original_filename text,
                content_type text,
                file_size bigint CHECK (file_size IS NULL OR file_size >= 0),
                file_sha256 text,
                storage_key text,
                extracted_text text,
                embedding real[],
                match_score double precision,
                error_message text,
                attempts integer NOT NULL DEFAULT 0,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                processed_at timestamptz
            );

            CREATE INDEX ix_applications_status ON applications (status);
            CREATE INDEX ix_applications_job_post_id ON applications (job_post_id);
            CREATE INDEX ix_applications_created_at ON applications (created_at);
            CREATE INDEX ix_applications_updated_at ON applications (updated_at);
            CREATE INDEX ix_applications_status_created_at ON applications (status, created_at);
            CREATE INDEX ix_applications_job_post_id_status ON applications (job_post_id, status);
            CREATE INDEX ix_applications_email_created_at ON applications (email, created_at);
            CREATE INDEX ix_applications_status_updated_at ON applications (status, updated_at);
            """),
        // Embeddings are 768 floats that do not compress: stored out of line as they are, so
        // PostgreSQL does not try to compress 3 KB on every write of a résumé's vector.
        PostgresMigration(version: 2, name: "store_embeddings_uncompressed", sql: """
            ALTER TABLE applications ALTER COLUMN embedding SET STORAGE EXTERNAL;
            ALTER TABLE job_posts ALTER COLUMN embedding SET STORAGE EXTERNAL;
            """),
        // Vectors of different models are never compared: each embedding records the embedder
        // that made it (its name, e.g. all-minilm-l6-v2) and its length. Rows stored before this
        // migration have no model (NULL) and rank only against a post whose vector has none either,
        // until `worker reembed` recomputes them.
        PostgresMigration(version: 3, name: "record_embedding_model", sql: """
            ALTER TABLE applications ADD COLUMN embedding_model text,
                ADD COLUMN embedding_dimensions integer GENERATED ALWAYS AS (cardinality(embedding)) STORED;
            ALTER TABLE job_posts ADD COLUMN embedding_model text,
                ADD COLUMN embedding_dimensions integer GENERATED ALWAYS AS (cardinality(embedding)) STORED;
            """),
    ]

    /// The secondary index names migration 1 creates (the seed's eight), for checks and tests.
    public static let seedIndexNames: [String] = [
        "ix_applications_status", "ix_applications_job_post_id", "ix_applications_created_at",
        "ix_applications_updated_at", "ix_applications_status_created_at", "ix_applications_job_post_id_status",
        "ix_applications_email_created_at", "ix_applications_status_updated_at",
    ]
}
