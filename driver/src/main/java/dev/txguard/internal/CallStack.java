package dev.txguard.internal;

import java.lang.reflect.InvocationHandler;
import java.util.ArrayList;
import java.util.List;
import java.sql.Connection;

/**
 * The application frames of the current thread at one moment, bottom first, so that a frame's
 * index is its height: the same activation keeps the same height for as long as it runs.
 *
 * <p>Frames that only pass a call along are left out, so that a call made through them counts as
 * their caller's: txguard's own, the JDK's (reflection, dynamic proxies), connection pools and
 * statement spies, {@link InvocationHandler}s (an application's own connection proxy), and the
 * classes named in {@code txguard.helpers}.
 */
final class CallStack {

    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    private static final String[] TRANSPARENT_PREFIXES = {
        "dev.txguard.internal.", "dev.txguard.TxGuard",
        "java.", "javax.", "jdk.", "sun.", "com.sun.",
        "com.zaxxer.hikari.", "com.p6spy.", "net.ttddyy.dsproxy.",
        "org.apache.commons.dbcp2.", "com.mchange.v2.c3p0.", "org.apache.tomcat.jdbc.pool.", "com.alibaba.druid.pool.",
    };

    /** Connection pools: their own code (not their connection proxies) configures and resets connections. */
    private static final String[] POOL_PREFIXES = {
        "com.zaxxer.hikari.", "org.apache.commons.dbcp2.", "com.mchange.v2.c3p0.", "org.apache.tomcat.jdbc.pool.",
        "com.alibaba.druid.pool.", "oracle.ucp.",
    };

    final String[] classes;
    final String[] methods;
    final String[] files;
    final int[] lines;
    /**
     * Some connection class's {@code close()} is running below: the connection is being closed, or
     * handed back to its pool (HikariCP, DBCP, c3p0 and hand-written pools implement Connection).
     * Dynamic proxies are left out: they are how applications write wrappers that only restore
     * attributes on close (Quartz), and their restore is an ordinary end event.
     */
    final boolean closing;
    /**
     * The call comes straight from a pool's own code rather than through its connection proxy: the pool
     * is configuring the connection (HikariCP's setupConnection with autoCommit=false), not the application.
     */
    final boolean fromPool;

    private CallStack(String[] classes, String[] methods, String[] files, int[] lines, boolean closing,
                      boolean fromPool) {
        this.classes = classes;
        this.methods = methods;
        this.files = files;
        this.lines = lines;
        this.closing = closing;
        this.fromPool = fromPool;
    }

    static CallStack capture(MethodPattern[] helpers) {
        return WALKER.walk(frames -> {
            List<StackWalker.StackFrame> kept = new ArrayList<>(64);
            boolean[] closing = {false};
            int[] callerSeen = {0}; // 0: not yet, 1: the caller is a pool's own code, 2: anything else
            frames.forEach(f -> {
                String cls = f.getClassName();
                if (callerSeen[0] == 0 && !cls.startsWith("dev.txguard.internal.")) {
                    callerSeen[0] = startsWithAny(cls, POOL_PREFIXES)
                            && !Connection.class.isAssignableFrom(f.getDeclaringClass()) ? 1 : 2;
                }
                if (!closing[0] && f.getMethodName().equals("close") && !cls.startsWith("dev.txguard.internal.")
                        && !java.lang.reflect.Proxy.isProxyClass(f.getDeclaringClass())
                        && Connection.class.isAssignableFrom(f.getDeclaringClass())) {
                    closing[0] = true;
                }
                if (!isTransparent(f, cls, helpers)) kept.add(f);
            });
            int n = kept.size();
            String[] classes = new String[n];
            String[] methods = new String[n];
            String[] files = new String[n];
            int[] lines = new int[n];
            for (int i = 0; i < n; i++) {
                StackWalker.StackFrame f = kept.get(n - 1 - i); // walked top first; stored bottom first
                classes[i] = f.getClassName();
                methods[i] = f.getMethodName();
                files[i] = f.getFileName();
                lines[i] = f.getLineNumber();
            }
            return new CallStack(classes, methods, files, lines, closing[0], callerSeen[0] == 1);
        });
    }

    private static boolean startsWithAny(String cls, String[] prefixes) {
        for (String prefix : prefixes) {
            if (cls.startsWith(prefix)) return true;
        }
        return false;
    }

    private static boolean isTransparent(StackWalker.StackFrame f, String cls, MethodPattern[] helpers) {
        if (startsWithAny(cls, TRANSPARENT_PREFIXES)) return true;
        if (InvocationHandler.class.isAssignableFrom(f.getDeclaringClass())) return true;
        for (MethodPattern helper : helpers) {
            if (helper.matches(cls, f.getMethodName())) return true;
        }
        return false;
    }

    /** Height of the caller: the topmost application frame (-1 when there is none). */
    int top() {
        return classes.length - 1;
    }

    /** How many frames, from the bottom, this stack shares with another. */
    int commonPrefix(CallStack other) {
        int n = Math.min(classes.length, other.classes.length);
        for (int i = 0; i < n; i++) {
            if (!classes[i].equals(other.classes[i]) || !methods[i].equals(other.methods[i])) return i;
        }
        return n;
    }

    /** Height of the innermost frame matching one of the patterns, or -1. */
    int innermostMatching(MethodPattern[] patterns) {
        for (int i = classes.length - 1; i >= 0; i--) {
            for (MethodPattern p : patterns) {
                if (p.matches(classes[i], methods[i])) return i;
            }
        }
        return -1;
    }

    String method(int height) {
        return height < 0 ? "(no application frame)" : classes[height] + "." + methods[height];
    }

    /** A frame as a stack trace shows it: {@code com.acme.Service.transfer(Service.java:42)}. */
    String describe(int height) {
        if (height < 0 || height >= classes.length) return "(no application frame)";
        String file = files[height];
        int line = lines[height];
        return method(height) + "(" + (file == null ? "Unknown Source" : file) + (line > 0 ? ":" + line : "") + ")";
    }
}
