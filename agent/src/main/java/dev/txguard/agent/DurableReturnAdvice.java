package dev.txguard.agent;

import dev.txguard.internal.Activations;
import dev.txguard.internal.Guard;
import java.sql.SQLException;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at every exit of a method named in {@code txguard.durable}: a transaction the method began
 * must not still be open when it returns. (Its begin inside someone else's transaction is already
 * refused by the engine, as with the driver.)
 */
public final class DurableReturnAdvice {

    private DurableReturnAdvice() {}

    /** A durable method is an activation of its own, whether or not it calls JDBC itself. */
    @Advice.OnMethodEnter
    public static Activations.Stack entered(@Advice.Origin("#t") String type, @Advice.Origin("#m") String method) {
        return Activations.enter(type, method);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class)
    public static void returned(@Advice.Thrown Throwable thrown, @Advice.Enter Activations.Stack activations)
            throws SQLException {
        try {
            Guard.durableMethodReturned(thrown != null);
        } finally {
            Activations.exit(activations);
        }
    }
}
