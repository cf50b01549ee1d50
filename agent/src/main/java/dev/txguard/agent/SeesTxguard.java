package dev.txguard.agent;

import dev.txguard.internal.Guard;
import java.lang.System.Logger.Level;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

/**
 * Instruments a class only where its loader resolves txguard's classes to the agent's, which the inlined advice
 * calls by name. LoadClassAdvice makes every loader do so; a loader it could not instrument would otherwise turn
 * each instrumented method into a NoClassDefFoundError, or run a second engine from a copy of its own. Such a
 * loader's classes are left alone, and that is said once per loader: its connections are not guarded.
 */
final class SeesTxguard implements AgentBuilder.RawMatcher {

    private static final System.Logger LOG = System.getLogger("dev.txguard.agent");
    /** Per loader met: whether it resolves txguard to the agent's classes. Class loading only, never a JDBC call. */
    private static final Map<ClassLoader, Boolean> LOADERS = Collections.synchronizedMap(new WeakHashMap<>());

    private final AgentBuilder.RawMatcher types;

    private SeesTxguard(AgentBuilder.RawMatcher types) {
        this.types = types;
    }

    static AgentBuilder.RawMatcher only(ElementMatcher<? super TypeDescription> types) {
        return only(new AgentBuilder.RawMatcher.ForElementMatchers(types));
    }

    static AgentBuilder.RawMatcher only(AgentBuilder.RawMatcher types) {
        return new SeesTxguard(types);
    }

    @Override
    public boolean matches(TypeDescription type, ClassLoader loader, JavaModule module, Class<?> classBeingRedefined,
                           ProtectionDomain protectionDomain) {
        return types.matches(type, loader, module, classBeingRedefined, protectionDomain) && sees(loader, type.getName());
    }

    static boolean sees(ClassLoader loader, String typeName) {
        if (loader == null) return false; // the bootstrap loader cannot see java.sql; nothing there is instrumented
        Boolean known = LOADERS.get(loader);
        if (known != null) return known;
        // resolved outside the map's lock: loading a class may wait for the loader's own lock
        String problem = problem(loader);
        if (LOADERS.putIfAbsent(loader, problem == null) == null && problem != null) {
            String message = "txguard agent: the class loader " + loader + " " + problem + ", so the agent leaves its"
                    + " classes alone (the first: " + typeName + "); connections opened there are NOT guarded. Let that"
                    + " loader take the package dev.txguard from the system class path (docs/agent.md, \"Class loaders\")";
            System.err.println(message);
            LOG.log(Level.ERROR, message);
        }
        return problem == null;
    }

    /** Null where the loader resolves txguard's classes to the agent's; otherwise what it does instead. */
    static String problem(ClassLoader loader) {
        Class<?> resolved;
        try {
            resolved = Class.forName(Guard.class.getName(), false, loader);
        } catch (ClassNotFoundException | LinkageError notFound) {
            return "cannot load txguard's classes";
        }
        if (resolved == Guard.class) return null;
        ProtectionDomain domain = resolved.getProtectionDomain();
        CodeSource source = domain == null ? null : domain.getCodeSource();
        return "has a copy of txguard of its own" + (source == null ? "" : " (from " + source.getLocation() + ")");
    }
}
