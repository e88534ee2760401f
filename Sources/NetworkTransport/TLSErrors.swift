internal import COpenSSL

/// OpenSSL's per-thread error queue as text (library reasons only; never key material).
enum TLSErrors {
    /// Empties the queue, so the next failure reports only its own reasons.
    static func clear() { ERR_clear_error() }

    /// The queued reasons, oldest first, joined by "; " (then the queue is empty).
    static func drain() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if let reason = ERR_reason_error_string(code) {
                reasons.append(String(cString: reason))
            } else {
                reasons.append("error \(code)")
            }
        }
        return reasons.isEmpty ? "no reason given" : reasons.joined(separator: "; ")
    }
}
