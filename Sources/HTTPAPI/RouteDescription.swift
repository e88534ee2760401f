/// A route as registered in the router (`GET /resumes/{application_id}`).
public struct RouteDescription: Sendable, Hashable, CustomStringConvertible {
    /// `GET`, `POST`, ….
    public var method: String
    /// The path template with `{name}` captures.
    public var path: String
    /// `"METHOD path"`.
    public var description: String { "\(method) \(path)" }
}
