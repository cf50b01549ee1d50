package dev.txguard.agent;

import dev.txguard.internal.Activations;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into every method that makes a JDBC call, and every method of the application's classes
 * ({@code txguard.application}) that may run application code: its entry and exit, so that the engine knows
 * which activation called without walking the stack. The names are constants of the instrumented
 * code: nothing is allocated.
 */
public final class ActivationAdvice {

    private ActivationAdvice() {}

    @Advice.OnMethodEnter
    public static Activations.Stack enter(@Advice.Origin("#t") String type, @Advice.Origin("#m") String method) {
        return Activations.enter(type, method);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class)
    public static void exit(@Advice.Enter Activations.Stack activations) {
        Activations.exit(activations);
    }
}
