package salescopilot.core

import java.io.File
import java.time.LocalDate
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.withContext
import salescopilot.core.ffi.Engine
import salescopilot.core.ffi.EngineConfig
import salescopilot.core.ffi.Utterance

/**
 * The copilot engine of an app: the models and the local database, fully offline. Open one per
 * app and share it; close it when the app no longer needs it (closing waits for calls in flight).
 *
 * Every call is a suspend function that runs the core on [dispatcher] (by default
 * [Dispatchers.IO]), so the main thread never blocks on a model or on SQLite, and throws only
 * [CopilotException]s.
 *
 * A call or chat is a [CopilotCall]: [startCall], push audio or lines, collect its events as a
 * Flow, and [CopilotCall.finish] for the note.
 */
class CopilotEngine private constructor(
    private val engine: Engine,
    private val dispatcher: CoroutineDispatcher,
) : AutoCloseable {
    companion object {
        /**
         * Opens an engine over [modelsDir] (the converted model files the app bundles or
         * downloaded and checked) and [dataDir] (the app's private folder for the database;
         * created if absent). Models load on first use, not here.
         */
        suspend fun open(
            modelsDir: File,
            dataDir: File,
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): CopilotEngine =
            withContext(dispatcher) {
                val config = EngineConfig(modelsDir = modelsDir.path, dataDir = dataDir.path)
                CopilotEngine(translatingErrors { Engine(config) }, dispatcher)
            }
    }

    /** Every model file of the manifest with its state; this hashes each present file. */
    suspend fun modelStatus(): List<ModelStatus> = core { it.modelStatus() }

    /**
     * Classifies one utterance or chat message: intent, objection type, confidence and the
     * evidence that decided. [previous] is the line just before it, which short replies such as
     * "no" need. The encoder loads on the first utterance no lexicon phrase decides.
     */
    suspend fun classify(
        text: String,
        speaker: Speaker? = null,
        previous: String? = null,
    ): Classification = core { it.classify(Utterance(text, speaker, previous)) }

    /**
     * Checks the lexicon file whole and puts it in force, returning its version. A bad file is an
     * [InvalidInputException] naming the line, and the lexicon in force stays.
     */
    suspend fun loadLexicon(file: File): String = core { it.loadLexicon(file.path) }

    /** As [loadLexicon], from the lexicon's text. */
    suspend fun loadLexiconText(text: String): String = core { it.loadLexiconText(text) }

    /** The version of the lexicon in force. */
    suspend fun lexiconVersion(): String = core { it.lexiconVersion() }

    /** Transcribes a whole recording (WAV, FLAC, MP3, AAC/M4A, Ogg Vorbis; any rate). */
    suspend fun transcribeFile(
        file: File,
        options: TranscribeOptions = defaultTranscribeOptions(),
    ): Transcript = core { it.transcribeFile(file.path, options) }

    /** Loads a customer snapshot file in one transaction: all of it, or none of it. */
    suspend fun importSnapshot(file: File): ImportSummary = core { it.importSnapshot(file.path) }

    /** As [importSnapshot], from the snapshot's JSON text. */
    suspend fun importSnapshotJson(json: String): ImportSummary =
        core { it.importSnapshotJson(json) }

    /**
     * The card of the customer whose id, Chinese name or English name is [customer], as of
     * [asOf] (today, UTC, when null). An unknown customer is a [NotFoundException].
     */
    suspend fun customerCard(customer: String, asOf: LocalDate? = null): CustomerCard =
        core { it.customerCard(customer, asOf?.toString()) }

    /**
     * Up to [limit] outbox records not yet acknowledged, oldest first. Send them when online,
     * then [acknowledge] the ids that arrived; the rest come back next time.
     */
    suspend fun outboxPending(limit: Int = 100): List<OutboxRecord> {
        require(limit >= 0) { "limit must not be negative" }
        return core { it.outboxPending(limit.toUInt()) }
    }

    /** Marks outbox records delivered and returns how many this call acknowledged. */
    suspend fun acknowledge(ids: List<String>): Int =
        core { it.outboxAcknowledge(ids).toInt() }

    /**
     * Moves a damaged database aside (never deleting it) and starts an empty one. Returns where
     * the damaged file went, or null when the database was healthy.
     */
    suspend fun recoverDatabase(): String? = core { it.recoverDatabase() }

    /**
     * Starts a call or chat. With consent to record in [options], the speech models load now,
     * so a missing model is reported here and not in the middle of the call.
     */
    suspend fun startCall(options: CallOptions): CopilotCall {
        val channel = Channel<LiveEvent>(Channel.UNLIMITED)
        val session = core { it.startCall(options, ChannelListener(channel)) }
        return CopilotCall(session, channel, dispatcher)
    }

    /** The calls that started and never finished (the process died), oldest first. */
    suspend fun unfinishedCalls(): List<UnfinishedCall> = core { it.unfinishedCalls() }

    /** Writes the note of an unfinished call from its journal, and ends it. */
    suspend fun finishUnfinishedCall(callId: String): CallResult =
        core { it.finishUnfinishedCall(callId) }

    /**
     * The note of a whole recorded call (stereo: the rep on channel 0, the customer on channel
     * 1), through the same path as a live call; it needs consent to record in [options].
     */
    suspend fun noteRecording(file: File, options: CallOptions): CallResult =
        core { it.noteRecording(file.path, options) }

    /**
     * Records what the rep did with a suggestion the coach showed, and moves the circuit
     * breaker of its scenario; the outcome carries the breaker's new state.
     */
    suspend fun recordFeedback(
        repId: String,
        suggestionId: String,
        fate: SuggestionFate,
    ): FeedbackOutcome = core { it.recordFeedback(repId, suggestionId, fate) }

    /** Every scenario breaker of a rep, as of now. */
    suspend fun breakerStates(repId: String): List<BreakerState> =
        core { it.breakerStates(repId) }

    /** A manager's reset: closes a frozen scenario of a rep at once. */
    suspend fun resetBreaker(repId: String, scenario: String): BreakerState =
        core { it.resetBreaker(repId, scenario) }

    /**
     * Checks a playbook file whole and puts it in force, returning its version; a bad file is an
     * [InvalidInputException] naming the line, and the playbook in force stays.
     */
    suspend fun loadPlaybook(file: File): String = core { it.loadPlaybook(file.path) }

    /** Releases the core's engine; calls after this throw [IllegalStateException]. */
    override fun close() = engine.close()

    private suspend fun <T> core(call: (Engine) -> T): T =
        withContext(dispatcher) { translatingErrors { call(engine) } }
}

/** Transcription with the multilingual Whisper base model, language detected. */
fun defaultTranscribeOptions(): TranscribeOptions =
    TranscribeOptions(
        asrModel = "whisper-base", variant = null, language = null, threads = null, script = null,
    )
