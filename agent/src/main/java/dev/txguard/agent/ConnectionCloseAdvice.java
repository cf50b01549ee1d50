package dev.txguard.agent;

import dev.txguard.internal.Activations;
import net.bytebuddy.asm.Advice;

/** Inlined into every connection class's {@code close()}: what it calls is the connection going away or back to its pool. */
public final class ConnectionCloseAdvice {

    private ConnectionCloseAdvice() {}

    @Advice.OnMethodEnter
    public static void enter() {
        Activations.enterClose();
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class)
    public static void exit() {
        Activations.exitClose();
    }
}
