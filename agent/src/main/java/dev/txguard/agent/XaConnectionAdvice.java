package dev.txguard.agent;

import dev.txguard.internal.Guard;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into every {@code XADataSource.getXAConnection}: while it runs, the connection the driver opens for the
 * XAConnection is left as the driver's own (see Guard.xaConnectionOpening); the XAConnection's handles are guarded.
 */
public final class XaConnectionAdvice {

    private XaConnectionAdvice() {}

    @Advice.OnMethodEnter
    public static void enter() {
        Guard.xaConnectionOpening();
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class)
    public static void exit() {
        Guard.xaConnectionOpened();
    }
}
