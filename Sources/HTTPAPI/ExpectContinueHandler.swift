import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with an interim `100 Continue` when the declared body fits the
/// cap and the request presents the API key where one is needed (and says nothing otherwise, so the
/// route's 413 or the middleware's 401 is the only answer, sent before any body byte is read).
///
/// curl sends the header for bodies over 1 MB and waits a second for the interim answer before
/// sending anyway; Hummingbird does not send it, so this handler sits in the HTTP/1.1 pipeline
/// (after the HTTP types codec) and writes it as soon as the request head arrives.
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let maxBodyBytes: Int
    private let apiKey: APIKeyCheck

    init(maxBodyBytes: Int, apiKey: APIKeyCheck) {
        self.maxBodyBytes = maxBodyBytes
        self.apiKey = apiKey
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data), head.headerFields[.expect]?.lowercased() == "100-continue" {
            let declared = head.headerFields[.contentLength].flatMap { Int($0) }
            let path = (head.path ?? "").prefix { $0 != "?" }
            let authorized = !apiKey.isRequired(path: path) || apiKey.accepts(head.headerFields)
            if authorized, declared.map({ $0 <= maxBodyBytes }) ?? true {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
            }
        }
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension ExpectContinueHandler: Sendable {}
