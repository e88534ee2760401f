/// `GET /health`: `{"status": "ok"}`.
struct HealthResponse: Encodable, Sendable {
    var status = "ok"
}

/// `GET /ready` when every dependency answered.
struct ReadyResponse: Encodable, Sendable {
    /// The checks that passed.
    struct Checks: Encodable, Sendable {
        var redis = "ok"
        var postgres = "ok"
    }

    var status = "ready"
    var checks = Checks()
}
