package salescopilot.core

import salescopilot.core.ffi.CopilotException as CoreError
import salescopilot.core.ffi.InternalException as CoreInternalError

/**
 * What the copilot core refused or failed to do. Every call of [CopilotEngine] throws only these
 * (and [IllegalStateException] after [CopilotEngine.close]); [message] is one sentence saying what
 * happened and, where there is one, what to do about it.
 */
sealed class CopilotException(message: String, cause: Throwable?) : Exception(message, cause)

/** A model file is missing, is not the pinned file, or could not be loaded. */
class ModelException(message: String, cause: Throwable? = null) : CopilotException(message, cause)

/** Audio could not be read or decoded. */
class AudioException(message: String, cause: Throwable? = null) : CopilotException(message, cause)

/** An argument or an input document (a lexicon, a snapshot, a date) was not acceptable. */
class InvalidInputException(message: String, cause: Throwable? = null) :
    CopilotException(message, cause)

/** The data folder or the database could not be used. */
class StorageException(message: String, cause: Throwable? = null) :
    CopilotException(message, cause)

/**
 * The database file is damaged or not SQLite; nothing was changed. [CopilotEngine.recoverDatabase]
 * moves it aside (never deleting it) and starts an empty one.
 */
class CorruptDatabaseException(message: String, cause: Throwable? = null) :
    CopilotException(message, cause)

/** The thing asked for (a customer, a record) does not exist. */
class NotFoundException(message: String, cause: Throwable? = null) :
    CopilotException(message, cause)

/** A failure inside the core that the app cannot fix; please report it with the message. */
class InternalException(message: String, cause: Throwable? = null) :
    CopilotException(message, cause)

/** Runs [block], turning the generated binding errors into the hierarchy above. */
internal inline fun <T> translatingErrors(block: () -> T): T =
    try {
        block()
    } catch (e: CoreError) {
        throw e.toKotlin()
    } catch (e: CoreInternalError) {
        throw InternalException(e.message ?: "the copilot core failed", e)
    }

private fun CoreError.toKotlin(): CopilotException =
    when (this) {
        is CoreError.Model -> ModelException(reason, this)
        is CoreError.Audio -> AudioException(reason, this)
        is CoreError.InvalidInput -> InvalidInputException(reason, this)
        is CoreError.Storage -> StorageException(reason, this)
        is CoreError.CorruptDatabase -> CorruptDatabaseException(reason, this)
        is CoreError.NotFound -> NotFoundException(reason, this)
        is CoreError.Internal -> InternalException(reason, this)
    }
