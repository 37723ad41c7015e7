// NOT BUILT HERE (no Swift toolchain on the project's machines); it mirrors the Kotlin layer's
// CopilotCall, whose tests run on the same core.
import Foundation

/// One live call or chat. Push audio from the recorder's callback and lines from the UI; read
/// `events` with `for await` for live text, labels and coaching; `finish()` for the note.
///
/// The push methods return at once (the core copies the samples into the call's queue and
/// recognises them on its own thread), so they are safe on an audio render callback. `events`
/// ends after `finish()`.
public final class CopilotCall: @unchecked Sendable {
    private let session: CallSession
    private let channel: EventChannel<LiveEvent>
    private let queue: DispatchQueue

    /// The call's id, as its note and the journal name it.
    public let callId: String

    /// The call's live events in the order they happened.
    public var events: AsyncStream<LiveEvent> { channel.events }

    init(session: CallSession, channel: EventChannel<LiveEvent>, queue: DispatchQueue) {
        self.session = session
        self.channel = channel
        self.queue = queue
        callId = session.callId()
    }

    /// Queues interleaved 16-bit PCM (`channels` values a frame; stereo is the rep on channel 0
    /// and the customer on channel 1) at `sampleRate` Hz. Every chunk must have the first
    /// chunk's format.
    public func pushPCM16(_ samples: [Int16], sampleRate: UInt32, channels: UInt32) throws {
        try session.pushPcm16(samples: samples, sampleRate: sampleRate, channels: channels)
    }

    /// As `pushPCM16`, for float samples in -1...1.
    public func pushAudio(_ samples: [Float], sampleRate: UInt32, channels: UInt32) throws {
        try session.pushAudio(samples: samples, sampleRate: sampleRate, channels: channels)
    }

    /// Queues a chat message or a typed line; `at` is its time in seconds from the call's
    /// start, or nil for now.
    public func pushLine(_ text: String, speaker: Speaker?, at: Double? = nil) throws {
        try session.pushLine(speaker: speaker, text: text, atS: at)
    }

    /// Ends the call: waits for the audio still queued, then returns the note (already saved
    /// with its outbox event), the utterances and the coach's conclusions.
    public func finish() async throws -> CallResult {
        defer { channel.finish() }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { [session] in continuation.resume(with: Result { try session.finish() }) }
        }
    }
}

/// Hands the core's events to the call's stream; called on the core's thread, never blocks it.
final class ChannelListener: CallListener, @unchecked Sendable {
    private let channel: EventChannel<LiveEvent>

    init(_ channel: EventChannel<LiveEvent>) {
        self.channel = channel
    }

    func onEvent(event: LiveEvent) {
        channel.send(event)
    }
}
