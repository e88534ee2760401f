import Hummingbird
import Logging
import ResumeJobs

/// `GET /jobs/{job_id}`: a job as its queue holds it, in either queue format.
struct JobController: APIController {
    let enqueuer: any JobEnqueuer
    let logger: Logger

    func addRoutes(to routes: inout APIRoutes) {
        routes.on(.get, "/jobs/{job_id}") { _, context in try await job(context) }
    }

    func job(_ context: BasicRequestContext) async throws -> Response {
        let id = context.parameters.get("job_id") ?? ""
        guard (1...128).contains(id.utf8.count), id.utf8.allSatisfy({ FieldText.isASCIIAlphanumeric($0) || $0 == 45 || $0 == 95 }) else {
            throw APIError.validation(["job_id": "must match [A-Za-z0-9_-]{1,128}"])
        }
        let report: JobStatusReport?
        do {
            report = try await enqueuer.status(jobID: id)
        } catch {
            logger.warning("reading a job failed", metadata: ["error": "\(error)"])
            throw APIError.unavailable("the queue is unavailable")
        }
        guard let report else { throw APIError.notFound("job \(id) does not exist") }
        switch report.details {
        case .native(let job): return try JSONResponse.make(NativeJobResponse(job))
        case .rq(let job, let latestResult): return try JSONResponse.make(RQJobResponse(job, latestResult: latestResult))
        }
    }
}
