package dev.txguard.agent;

import net.bytebuddy.asm.Advice;

/**
 * Inlined into {@code ClassLoader.loadClass} and every override of it: a loader asked for one of txguard's
 * classes gets the agent's, from the system class loader, before it looks anywhere else. The advice that guards
 * connections is inlined into classes of any loader and names txguard's classes, which resolve through that
 * loader; a plugin host's or module system's loader that does not see the system class path would otherwise
 * fail every instrumented method with NoClassDefFoundError, and a web application's own copy of txguard would
 * run a second engine. This code runs inside java.lang.ClassLoader, so it may use the JDK alone.
 */
public final class LoadClassAdvice {

    /** txguard's own classes. Constants, which javac copies into the advice: that code cannot refer to this class. */
    static final String ENGINE = "dev.txguard.internal.";
    static final String AGENT = "dev.txguard.agent.";
    static final String PUBLIC_API = "dev.txguard.TxGuard";

    private LoadClassAdvice() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    public static Class<?> agentsOwn(@Advice.This ClassLoader loader, @Advice.Argument(0) String name) {
        if (name == null || !name.startsWith(ENGINE) && !name.startsWith(AGENT) && !name.startsWith(PUBLIC_API)) return null;
        ClassLoader system = ClassLoader.getSystemClassLoader();
        // the system loader and those it delegates to find txguard, or not, by themselves
        for (ClassLoader beneath = system; beneath != null; beneath = beneath.getParent()) {
            if (beneath == loader) return null;
        }
        try {
            return Class.forName(name, false, system);
        } catch (ClassNotFoundException notTxguards) {
            return null;
        }
    }

    @Advice.OnMethodExit
    public static void returnIt(@Advice.Enter Class<?> agentsOwn, @Advice.Return(readOnly = false) Class<?> loaded) {
        if (agentsOwn != null) loaded = agentsOwn;
    }
}
