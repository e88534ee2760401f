import CoreMetrics
import Metrics

/// The worker's swift-metrics instruments (exported by whatever backend the process bootstraps;
/// the `worker` executable uses swift-prometheus on `--metrics-port`).
///
/// Names: `worker_jobs_started_total`, `worker_jobs_finished_total`, `worker_jobs_failed_total`,
/// `worker_jobs_retried_total` (label `mode`: native or rq), `worker_job_duration_seconds`
/// (label `outcome`), `worker_jobs_running`, and `worker_queue_length` (label `queue`).
struct WorkerMetrics: Sendable {
    let mode: String
    let started: Counter
    let finished: Counter
    let failed: Counter
    let retried: Counter
    let running: Meter

    init(mode: String) {
        self.mode = mode
        let dimensions = [("mode", mode)]
        started = Counter(label: "worker_jobs_started_total", dimensions: dimensions)
        finished = Counter(label: "worker_jobs_finished_total", dimensions: dimensions)
        failed = Counter(label: "worker_jobs_failed_total", dimensions: dimensions)
        retried = Counter(label: "worker_jobs_retried_total", dimensions: dimensions)
        running = Meter(label: "worker_jobs_running", dimensions: dimensions)
    }

    /// Records a job's start (started counter, running gauge up).
    func jobStarted() {
        started.increment()
        running.increment()
    }

    /// Records that a started job is no longer running.
    func jobLeft() {
        running.decrement()
    }

    /// Records one job's end: outcome counter and duration.
    func ended(outcome: String, seconds: Double) {
        switch outcome {
        case "finished": finished.increment()
        case "retried": retried.increment()
        default: failed.increment()
        }
        Timer(label: "worker_job_duration_seconds", dimensions: [("mode", mode), ("outcome", outcome)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    /// Sets the sampled length of `queue`.
    func queueLength(_ queue: String, _ length: Int) {
        Gauge(label: "worker_queue_length", dimensions: [("mode", mode), ("queue", queue)]).record(length)
    }
}
