import Foundation
import Pickle
import ResumeJobs
import JobProcessing

/// Registers the résumé job, `app.workers.async_resume_processor.process_resume_async`
/// (`(application_id, job_post_id)`, the seed's function), with the worker.
public enum ResumeJobHandler {
    /// Extra names the same handler answers to (shorter spellings used by scripts).
    public static let defaultAliases = ["process_resume_async", "resume_processor.jobs.process_resume"]

    /// Adds the handler to `registry` under the seed's name and `aliases`. Arguments: the
    /// application id and (optionally) the job post id, positionally or as keywords; a
    /// `force=True` keyword reprocesses a `COMPLETED` row. Returns
    /// `{"application_id", "status", "match_score"}`.
    public static func register(into registry: inout JobHandlerRegistry, processor: ResumeProcessor, aliases: [String] = defaultAliases) {
        registry.register(resumeJobFunction, aliases: aliases) { context in
            let applicationText = context.args.first?.stringValue ?? context.kwarg("application_id")?.stringValue
            guard let applicationText, let applicationID = UUID(uuidString: applicationText) else {
                throw JobFailure(type: "ValueError", "process_resume_async needs an application id (UUID) as its first argument", kind: .permanent)
            }
            let jobPostText = (context.args.count > 1 ? context.args[1].stringValue : nil) ?? context.kwarg("job_post_id")?.stringValue
            var jobPostID: UUID?
            if let jobPostText {
                guard let parsed = UUID(uuidString: jobPostText) else {
                    throw JobFailure(type: "ValueError", "job_post_id '\(jobPostText.prefix(64))' is not a UUID", kind: .permanent)
                }
                jobPostID = parsed
            }
            let force = context.kwarg("force").map { $0 == .bool(true) } ?? false
            do {
                let outcome = try await processor.process(applicationID: applicationID, jobPostID: jobPostID, force: force)
                let score: PythonValue
                let status: String
                switch outcome {
                case .completed(let value):
                    score = .float(value)
                    status = "COMPLETED"
                case .alreadyCompleted:
                    score = .none
                    status = "ALREADY_COMPLETED"
                }
                return .dict([
                    PythonDictEntry("application_id", .string(applicationID.uuidString.lowercased())),
                    PythonDictEntry("status", .string(status)), PythonDictEntry("match_score", score),
                ])
            } catch let error as PipelineError {
                throw JobFailure(type: "ResumeProcessingError", error.description, kind: error.isTransient ? .transient : .permanent)
            }
        }
    }
}
