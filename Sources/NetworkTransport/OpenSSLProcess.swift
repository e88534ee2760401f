internal import COpenSSL

/// Process-wide OpenSSL settings.
public enum OpenSSLProcess {
    /// Keeps OpenSSL's global state until the process is gone instead of freeing it from an
    /// `atexit` handler. Without this, `exit` (after the service group has stopped) can free
    /// OpenSSL's tables while another thread — a connection closing on its own thread, libpq
    /// included, which links the same libcrypto — is still inside it: a "double free or
    /// corruption" abort at shutdown, seen once in the compat suite. Call it first thing in
    /// `main`, before any connection exists; later calls do nothing.
    public static func keepStateUntilExit() {
        _ = initialized
    }

    private static let initialized: Bool = cssl_init_without_exit_cleanup() == 1
}
