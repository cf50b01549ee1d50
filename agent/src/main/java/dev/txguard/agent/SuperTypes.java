package dev.txguard.agent;

import java.sql.Connection;
import java.sql.Driver;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import javax.sql.PooledConnection;
import javax.sql.XADataSource;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.utility.JavaModule;

/**
 * Which of the few types the agent looks for (the JDBC types it guards, ClassLoader, InvocationHandler) a class is or
 * extends, and whether it is an interface: read from class-file headers (access flags, super class,
 * interfaces) and remembered per class loader and type name. A class's answer is its direct super types' answers put
 * together, so each type is worked out once, and the class being loaded is read from the bytes the JVM hands over
 * (LoadingClassFile). Byte Buddy's own matchers parsed every loaded class whole, and walked its whole generic
 * hierarchy again for each type looked for: at a Spring Boot application's start-up that was most of what the agent
 * cost. Byte Buddy now parses only the classes that match.
 */
final class SuperTypes {

    static final int DRIVER = 1;
    static final int DATA_SOURCE = 1 << 1;
    static final int XA_DATA_SOURCE = 1 << 2;
    static final int POOLED_CONNECTION = 1 << 3;
    static final int CONNECTION = 1 << 4;
    static final int CLASS_LOADER = 1 << 5;
    static final int INVOCATION_HANDLER = 1 << 6;
    /** Not a super type: the class itself is an interface. */
    private static final int INTERFACE = 1 << 7;

    private static final Map<String, Integer> LOOKED_FOR = Map.of(
            "java.sql.Driver", DRIVER, "javax.sql.DataSource", DATA_SOURCE, "javax.sql.XADataSource", XA_DATA_SOURCE,
            "javax.sql.PooledConnection", POOLED_CONNECTION, "java.sql.Connection", CONNECTION,
            "java.lang.ClassLoader", CLASS_LOADER, "java.lang.reflect.InvocationHandler", INVOCATION_HANDLER);
    private static final Class<?>[] LOOKED_FOR_TYPES = {Driver.class, DataSource.class, XADataSource.class,
        PooledConnection.class, Connection.class, ClassLoader.class, java.lang.reflect.InvocationHandler.class};

    private static final Map<ClassLoader, Map<String, Integer>> BY_LOADER = Collections.synchronizedMap(new WeakHashMap<>());
    private static final Map<String, Integer> BOOTSTRAP = new ConcurrentHashMap<>();

    private SuperTypes() {}

    /** A matcher of the concrete classes that are or extend any of {@code kinds}. */
    static AgentBuilder.RawMatcher concrete(int kinds) {
        return (TypeDescription type, ClassLoader loader, JavaModule module, Class<?> classBeingRedefined,
                java.security.ProtectionDomain protectionDomain) -> {
            int of = classBeingRedefined != null ? ofLoaded(classBeingRedefined) : of(type.getName(), loader);
            return !isInterface(of) && (of & kinds) != 0;
        };
    }

    /** Whether what {@link #of} answered is an interface's. */
    static boolean isInterface(int kinds) {
        return (kinds & INTERFACE) != 0;
    }

    /**
     * A class already loaded (retransformed as the agent installs: every class loaded before it is matched then),
     * read from the class itself.
     */
    static int ofLoaded(Class<?> loaded) {
        int kinds = loaded.isInterface() ? INTERFACE : 0;
        for (Class<?> lookedFor : LOOKED_FOR_TYPES) {
            if (lookedFor.isAssignableFrom(loaded)) kinds |= LOOKED_FOR.get(lookedFor.getName());
        }
        return kinds;
    }

    /**
     * What the class {@code name}, seen from {@code loader}, is or extends: bits of the constants above. The class
     * being loaded is read from the bytes the JVM hands over (LoadingClassFile).
     */
    static int of(String name, ClassLoader loader) {
        Map<String, Integer> known = known(loader);
        Integer remembered = known.get(name);
        if (remembered != null) return remembered;
        byte[] loading = LoadingClassFile.of(loader, name);
        return remember(known, name, loading != null ? fromHeader(new ClassReader(loading), name, loader, known)
                : read(name, loader, known));
    }

    private static Map<String, Integer> known(ClassLoader loader) {
        return loader == null ? BOOTSTRAP : BY_LOADER.computeIfAbsent(loader, unused -> new ConcurrentHashMap<>());
    }

    private static int remember(Map<String, Integer> known, String name, int kinds) {
        known.put(name, kinds);
        return kinds;
    }

    /** What a super type passes on: the kinds it is or extends (not whether it is an interface). */
    private static int inherited(String name, ClassLoader loader, Map<String, Integer> known) {
        Integer remembered = known.get(name);
        if (remembered == null) remembered = remember(known, name, read(name, loader, known));
        return remembered & ~INTERFACE;
    }

    /**
     * A super type not loaded yet is read from its class file, not loaded here: a class loaded while a transformer
     * runs is not handed to any transformer (the JDK's instrument agent lets none run nested), so it would escape
     * the agent.
     */
    private static int read(String name, ClassLoader loader, Map<String, Integer> known) {
        Integer looked = LOOKED_FOR.get(name);
        if (looked != null) return looked | (name.equals("java.lang.ClassLoader") ? 0 : INTERFACE);
        if (name.equals("java.lang.Object")) return 0;
        byte[] classFile = LoadingClassFile.of(loader, name);
        if (classFile == null) classFile = locate(name, loader);
        if (classFile != null) return fromHeader(new ClassReader(classFile), name, loader, known);
        // No class file anywhere (a class a library defines at run time): the loaded type, if there is one
        try {
            return ofLoaded(Class.forName(name, false, loader));
        } catch (ClassNotFoundException | LinkageError absent) {
            return 0; // a class that extends it cannot be defined either
        }
    }

    private static int fromHeader(ClassReader header, String name, ClassLoader loader, Map<String, Integer> known) {
        int access = header.getAccess();
        int kinds = LOOKED_FOR.getOrDefault(name, 0) | ((access & Opcodes.ACC_INTERFACE) != 0 ? INTERFACE : 0);
        String superName = header.getSuperName();
        if (superName != null) kinds |= inherited(superName.replace('/', '.'), loader, known);
        for (String implemented : header.getInterfaces()) kinds |= inherited(implemented.replace('/', '.'), loader, known);
        return kinds;
    }

    private static byte[] locate(String name, ClassLoader loader) {
        try {
            ClassFileLocator.Resolution found = TxGuardAgent.classFiles(loader).locate(name);
            return found.isResolved() ? found.resolve() : null;
        } catch (java.io.IOException unreadable) {
            return null;
        }
    }
}
