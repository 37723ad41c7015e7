// NOT BUILT HERE (no Swift toolchain on the project's machines).
import Foundation

/// The bridge from a core listener to Swift concurrency: the listener, called on a core thread,
/// `send`s each event, and the app reads `events` with `for await`. Nothing is dropped (the
/// buffer is unbounded, as a call's events are few per second), and `finish` ends the stream.
///
/// A call's listener (`ChannelListener`, the core's foreign trait) owns one of these, and
/// `CopilotCall.events` reads it.
public final class EventChannel<Event: Sendable>: @unchecked Sendable {
    /// The events in the order the core sent them; ends after `finish`.
    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation

    public init() {
        (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
    }

    /// Delivers one event; safe from any thread.
    public func send(_ event: Event) {
        continuation.yield(event)
    }

    /// Ends the stream; later events are ignored.
    public func finish() {
        continuation.finish()
    }
}
