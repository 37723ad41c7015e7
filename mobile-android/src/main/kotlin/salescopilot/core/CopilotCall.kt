package salescopilot.core

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.receiveAsFlow
import kotlinx.coroutines.withContext
import salescopilot.core.ffi.CallListener
import salescopilot.core.ffi.CallSession

/**
 * One live call or chat. Push audio from the recorder's thread and lines from the UI; collect
 * [events] for live text, labels and coaching; call [finish] for the note.
 *
 * The push functions return at once (the core copies the samples into the call's queue and
 * recognises them on its own thread), so they are safe on an audio callback. [events] is a
 * cold-once flow: collect it from one coroutine; it completes after [finish].
 */
class CopilotCall internal constructor(
    private val session: CallSession,
    private val channel: Channel<LiveEvent>,
    private val dispatcher: CoroutineDispatcher,
) {
    /** The call's id, as its note and the journal name it. */
    val callId: String = session.callId()

    /**
     * The call's live events in the order they happened: partial text, final utterances with
     * their labels, the coach's suggestions and alerts, problems. Delivered on the collector's
     * dispatcher, never on the core's thread.
     */
    val events: Flow<LiveEvent> = channel.receiveAsFlow()

    /**
     * Queues 16-bit PCM as the recorder delivers it: interleaved, [channels] values a frame
     * (stereo is the rep on channel 0 and the customer on channel 1), at [sampleRate] Hz.
     * Every chunk must have the first chunk's format.
     */
    fun pushPcm16(samples: ShortArray, sampleRate: Int, channels: Int) = translatingErrors {
        session.pushPcm16(samples.toList(), sampleRate.toUInt(), channels.toUInt())
    }

    /** As [pushPcm16], for float samples in -1..1. */
    fun pushAudio(samples: FloatArray, sampleRate: Int, channels: Int) = translatingErrors {
        session.pushAudio(samples.toList(), sampleRate.toUInt(), channels.toUInt())
    }

    /**
     * Queues a chat message or a typed line by [speaker]; [atSeconds] is its time from the
     * call's start, or null for now.
     */
    fun pushLine(speaker: Speaker?, text: String, atSeconds: Double? = null) = translatingErrors {
        session.pushLine(speaker, text, atSeconds)
    }

    /**
     * Ends the call: waits for the audio still queued, then returns the note (already saved
     * with its outbox event), the utterances and the coach's conclusions. [events] completes.
     */
    suspend fun finish(): CallResult =
        withContext(dispatcher) {
            try {
                translatingErrors { session.finish() }
            } finally {
                channel.close()
            }
        }
}

/** Hands the core's events to the call's channel; never blocks the core's thread. */
internal class ChannelListener(private val channel: Channel<LiveEvent>) : CallListener {
    override fun onEvent(event: LiveEvent) {
        channel.trySend(event)
    }
}
