package dev.txguard.agent;

import dev.txguard.internal.Activations;
import net.bytebuddy.asm.Advice;

/** Inlined into a connection pool's own methods that make JDBC calls: what they call comes from the pool. */
public final class PoolMethodAdvice {

    private PoolMethodAdvice() {}

    @Advice.OnMethodEnter
    public static void enter() {
        Activations.enterPool();
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class)
    public static void exit() {
        Activations.exitPool();
    }
}
