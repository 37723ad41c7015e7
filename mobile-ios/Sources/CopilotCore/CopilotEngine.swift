// NOT BUILT HERE (no Swift toolchain on the project's machines); reviewed against the Kotlin
// layer, whose tests run on the same core.
import Foundation

/// The copilot engine of an app: the models and the local database, fully offline. Create one
/// per app and share it; it is safe to call from any task or thread.
///
/// Every call is an `async` function that runs the core on a background dispatch queue, so no
/// actor (the main actor included) and no thread of the Swift concurrency pool blocks on a model
/// or on SQLite. Errors are the core's `CopilotError`, whose every case carries one sentence
/// (`reason`) saying what happened and what to do.
///
/// A call or chat is a `CopilotCall`: `startCall`, push audio or lines, read its events as an
/// `AsyncStream`, and `finish()` for the note.
public final class CopilotEngine: @unchecked Sendable {
    // The core's engine is thread-safe (an `Arc` shared across threads on the Rust side).
    private let engine: Engine
    private let queue: DispatchQueue

    /// Opens an engine over `models` (the converted model files the app bundles, or downloaded
    /// and checked) and `data` (the app's private folder for the database; created if absent).
    /// Models load on first use, not here.
    public init(models: URL, data: URL, qos: DispatchQoS = .userInitiated) throws {
        engine = try Engine(config: EngineConfig(modelsDir: models.path, dataDir: data.path))
        queue = DispatchQueue(label: "copilot-core", qos: qos, attributes: .concurrent)
    }

    /// Every model file of the manifest with its state; this hashes each present file.
    public func modelStatus() async -> [ModelStatus] {
        await runInfallible { $0.modelStatus() }
    }

    /// Classifies one utterance or chat message: intent, objection type, confidence and the
    /// evidence that decided. `previous` is the line just before it, which short replies such as
    /// "no" need.
    public func classify(
        _ text: String, speaker: Speaker? = nil, previous: String? = nil
    ) async throws -> Classification {
        let utterance = Utterance(text: text, speaker: speaker, previous: previous)
        return try await run { try $0.classify(utterance: utterance) }
    }

    /// Checks a lexicon file whole and puts it in force, returning its version. A bad file is
    /// `CopilotError.InvalidInput` naming the line, and the lexicon in force stays.
    public func loadLexicon(_ file: URL) async throws -> String {
        try await run { try $0.loadLexicon(path: file.path) }
    }

    /// The version of the lexicon in force.
    public func lexiconVersion() async -> String {
        await runInfallible { $0.lexiconVersion() }
    }

    /// Transcribes a whole recording (WAV, FLAC, MP3, AAC/M4A, Ogg Vorbis; any rate).
    public func transcribe(_ file: URL, options: TranscribeOptions) async throws -> Transcript {
        try await run { try $0.transcribeFile(path: file.path, options: options) }
    }

    /// Loads a customer snapshot file in one transaction: all of it, or none of it.
    public func importSnapshot(_ file: URL) async throws -> ImportSummary {
        try await run { try $0.importSnapshot(path: file.path) }
    }

    /// The card of the customer whose id, Chinese name or English name is `customer`, as of
    /// `asOf` (`YYYY-MM-DD`; today, UTC, when nil). An unknown customer is
    /// `CopilotError.NotFound`.
    public func customerCard(_ customer: String, asOf: String? = nil) async throws -> CustomerCard {
        try await run { try $0.customerCard(customer: customer, asOf: asOf) }
    }

    /// Up to `limit` outbox records not yet acknowledged, oldest first. Send them when online,
    /// then `acknowledge` the ids that arrived; the rest come back next time.
    public func outboxPending(limit: UInt32 = 100) async throws -> [OutboxRecord] {
        try await run { try $0.outboxPending(limit: limit) }
    }

    /// Marks outbox records delivered and returns how many this call acknowledged.
    public func acknowledge(_ ids: [String]) async throws -> UInt32 {
        try await run { try $0.outboxAcknowledge(ids: ids) }
    }

    /// Moves a damaged database aside (never deleting it) and starts an empty one. Returns where
    /// the damaged file went, or nil when the database was healthy.
    public func recoverDatabase() async throws -> String? {
        try await run { try $0.recoverDatabase() }
    }

    /// Starts a call or chat. With consent to record in `options`, the speech models load now,
    /// so a missing model is reported here and not in the middle of the call.
    public func startCall(_ options: CallOptions) async throws -> CopilotCall {
        let channel = EventChannel<LiveEvent>()
        let listener = ChannelListener(channel)
        let session = try await run { try $0.startCall(options: options, listener: listener) }
        return CopilotCall(session: session, channel: channel, queue: queue)
    }

    /// The calls that started and never finished (the process died), oldest first.
    public func unfinishedCalls() async throws -> [UnfinishedCall] {
        try await run { try $0.unfinishedCalls() }
    }

    /// Writes the note of an unfinished call from its journal, and ends it.
    public func finishUnfinishedCall(_ callId: String) async throws -> CallResult {
        try await run { try $0.finishUnfinishedCall(callId: callId) }
    }

    private func run<T>(_ call: @escaping (Engine) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [engine] in continuation.resume(with: Result { try call(engine) }) }
        }
    }

    private func runInfallible<T>(_ call: @escaping (Engine) -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { [engine] in continuation.resume(returning: call(engine)) }
        }
    }
}

extension CopilotError {
    /// The one sentence the core wrote for this error.
    public var reason: String {
        switch self {
        case .Model(let reason), .Audio(let reason), .InvalidInput(let reason),
            .Storage(let reason), .CorruptDatabase(let reason), .NotFound(let reason),
            .Internal(let reason):
            return reason
        }
    }
}
