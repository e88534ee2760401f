/// How a worker on several queues picks the next one, as `rq worker --dequeue-strategy`:
/// `default` asks them in the given (priority) order every time; `round_robin` starts after the
/// queue that gave the last job; `random` shuffles them for every dequeue.
public enum RQDequeueStrategy: String, Sendable, Hashable, CaseIterable {
    /// Priority order.
    case `default`
    /// After a job from queue *i*, the order is *i+1 … n, 1 … i* (RQ's `_ordered_queues` rotation).
    case roundRobin = "round_robin"
    /// A fresh shuffle before each dequeue.
    case random

    /// The order to ask `queues` in, `last` being the queue that gave the previous job (if any).
    public func order(_ queues: [String], after last: String?) -> [String] {
        switch self {
        case .default:
            return queues
        case .roundRobin:
            guard let last, let index = queues.firstIndex(of: last) else { return queues }
            return Array(queues[(index + 1)...] + queues[...index])
        case .random:
            return queues.shuffled()
        }
    }
}
