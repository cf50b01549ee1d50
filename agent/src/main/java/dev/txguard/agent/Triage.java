package dev.txguard.agent;

import dev.txguard.internal.Guard;
import java.lang.System.Logger.Level;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Method;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.Opcodes;

/**
 * The agent's one transformer: every class the JVM loads passes here, and only the few that the agent may instrument
 * go on to Byte Buddy's transformers, whose matchers decide. What is asked first is what the bytes the JVM hands over
 * say by themselves: the class's name, its access flags, the names of the methods it declares, and under
 * {@code application=} whether its bytecode calls JDBC (JdbcCallSites). Only a class that passes has its super types
 * worked out (SuperTypes), which may mean reading their class files. The bytes stay at hand (LoadingClassFile) while
 * Byte Buddy's matchers ask again. A Spring Boot application's start-up loads about 12,000 classes and the agent
 * instruments fifteen of them; for the others it costs a walk over the class file's header and method table.
 */
final class Triage implements ClassFileTransformer {

    private static final System.Logger LOG = System.getLogger("dev.txguard.agent");

    /** Byte Buddy's transformers, as TxGuardAgent configures them: the class loaders', then the guard's. */
    static final class Transformers {
        final ClassFileTransformer classLoaders;
        final ClassFileTransformer guard;

        Transformers(ClassFileTransformer classLoaders, ClassFileTransformer guard) {
            this.classLoaders = classLoaders;
            this.guard = guard;
        }
    }

    /** The JDBC types whose classes the guard instruments. */
    private static final int GUARDED = SuperTypes.DRIVER | SuperTypes.DATA_SOURCE | SuperTypes.XA_DATA_SOURCE
            | SuperTypes.POOLED_CONNECTION | SuperTypes.CONNECTION;
    private static final String HIKARI_PROXY_CONNECTION = "com/zaxxer/hikari/pool/ProxyConnection";

    private final boolean activations;
    private final boolean durableMethods;
    private final Transformers transformers;

    Triage(boolean activations, boolean durableMethods, Transformers transformers) {
        this.activations = activations;
        this.durableMethods = durableMethods;
        this.transformers = transformers;
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> classBeingRedefined,
                            ProtectionDomain protectionDomain, byte[] classfileBuffer) {
        // The JDK runs no transformer for what loads while one runs: the agent's own code, Byte Buddy's, go unseen.
        if (className == null || isTxguards(className)) return null;
        LoadingClassFile.set(loader, className, classfileBuffer);
        try {
            ClassReader header = new ClassReader(classfileBuffer);
            int access = header.getAccess();
            // Nothing is instrumented in an interface, nor in a synthetic class (lambda forms, generated accessors).
            if ((access & (Opcodes.ACC_INTERFACE | Opcodes.ACC_SYNTHETIC)) != 0) return null;
            int declared = declaredMethods(header);
            String name = className.replace('/', '.');
            boolean classLoader = (declared & LOAD_CLASS) != 0 && !isLoaderLeftAlone(className)
                    && (kinds(name, loader, classBeingRedefined) & SuperTypes.CLASS_LOADER) != 0;
            boolean guarded = mayGuard(className, name, loader, classBeingRedefined, declared);
            if (!classLoader && !guarded) return null;
            byte[] bytes = classfileBuffer;
            if (classLoader) bytes = orSame(transformers.classLoaders.transform(
                    module, loader, className, classBeingRedefined, protectionDomain, bytes), bytes);
            if (guarded) bytes = orSame(transformers.guard.transform(
                    module, loader, className, classBeingRedefined, protectionDomain, bytes), bytes);
            return bytes == classfileBuffer ? null : bytes;
        } catch (Throwable unexpected) {
            // A transformer's exception is dropped by the JVM without a word: the class loads as it was.
            LOG.log(Level.WARNING, () -> "txguard agent: could not inspect " + className.replace('/', '.') + " ("
                    + unexpected + "); if it opens, hands out or calls JDBC connections, what it does with them is NOT"
                    + " guarded");
            LOG.log(Level.DEBUG, () -> "txguard agent: why " + className + " could not be inspected", unexpected);
            return null;
        } finally {
            LoadingClassFile.clear();
        }
    }

    /**
     * Classes loaded before the agent that it instruments (at start-up, few or none; attached to a running JVM, its
     * drivers, pools and class loaders), retransformed through this transformer one by one.
     */
    void retransformLoaded(Instrumentation instrumentation) {
        List<Class<?>> wanted = new ArrayList<>();
        for (Class<?> loaded : instrumentation.getAllLoadedClasses()) {
            if (loaded.isArray() || loaded.isPrimitive() || loaded.isInterface() || loaded.isSynthetic()
                    || !instrumentation.isModifiableClass(loaded)) continue;
            String internalName = loaded.getName().replace('.', '/');
            if (isTxguards(internalName)) continue;
            int declared = declaredMethods(loaded);
            if ((declared & LOAD_CLASS) != 0 && !isLoaderLeftAlone(internalName)
                    && ClassLoader.class.isAssignableFrom(loaded)
                    || mayGuard(internalName, loaded.getName(), loaded.getClassLoader(), loaded, declared)) {
                wanted.add(loaded);
            }
        }
        for (Class<?> loaded : wanted) {
            try {
                instrumentation.retransformClasses(loaded);
            } catch (Throwable refused) {
                LOG.log(Level.WARNING, () -> "txguard agent: could not instrument " + loaded.getName() + ", loaded"
                        + " before the agent (" + refused + "); if it opens, hands out or calls JDBC connections, what"
                        + " it does with them is NOT guarded");
            }
        }
    }

    /** {@link #declaredMethods(ClassReader)} of a loaded class; all kinds where its methods cannot be listed. */
    private static int declaredMethods(Class<?> loaded) {
        int declared = 0;
        try {
            for (Method method : loaded.getDeclaredMethods()) {
                declared |= INSTRUMENTED_NAMES.getOrDefault(method.getName(), 0);
            }
        } catch (LinkageError unresolvable) {
            return LOAD_CLASS | GUARDED_METHOD;
        }
        return declared;
    }

    private static byte[] orSame(byte[] transformed, byte[] bytes) {
        return transformed == null ? bytes : transformed;
    }

    /**
     * Whether a concrete class may match one of the guard's types: a JDBC class that declares a method the guard
     * instruments, HikariCP's handle, a class that may declare a durable method, under {@code application=} a class
     * whose methods call JDBC or are the application's. Never the JDK's, or one of the bootstrap loader's. Its own
     * bytes decide first: its super types are read only for a class that declares such a method or calls JDBC.
     */
    private boolean mayGuard(String internalName, String name, ClassLoader loader, Class<?> classBeingRedefined,
                             int declared) {
        if (isNeverGuarded(internalName, loader)) return false;
        if ((declared & GUARDED_METHOD) != 0 && (kinds(name, loader, classBeingRedefined) & GUARDED) != 0) return true;
        if (internalName.equals(HIKARI_PROXY_CONNECTION)) return true;
        if (durableMethods && Guard.mayDeclareDurableMethods(name)) return true;
        return activations && TxGuardAgent.CallSites.mayMatch(name, loader);
    }

    private static int kinds(String name, ClassLoader loader, Class<?> classBeingRedefined) {
        return classBeingRedefined != null ? SuperTypes.ofLoaded(classBeingRedefined) : SuperTypes.of(name, loader);
    }

    /** A declared loadClass, for LoadClassAdvice. */
    static final int LOAD_CLASS = 1;
    /** A declared method of a JDBC type that the guard instruments (TxGuardAgent's transformers). */
    static final int GUARDED_METHOD = 2;
    private static final Map<String, Integer> INSTRUMENTED_NAMES = Map.ofEntries(Map.entry("loadClass", LOAD_CLASS),
            Map.entry("connect", GUARDED_METHOD), Map.entry("getConnection", GUARDED_METHOD),
            Map.entry("getXAConnection", GUARDED_METHOD), Map.entry("setAutoCommit", GUARDED_METHOD),
            Map.entry("getAutoCommit", GUARDED_METHOD), Map.entry("commit", GUARDED_METHOD),
            Map.entry("rollback", GUARDED_METHOD), Map.entry("setSavepoint", GUARDED_METHOD),
            Map.entry("releaseSavepoint", GUARDED_METHOD), Map.entry("close", GUARDED_METHOD));

    /**
     * Which kinds of method the class declares, by name: its method table walked in place (fields and attributes
     * skipped by their lengths), without parsing the class.
     */
    static int declaredMethods(ClassReader reader) {
        int offset = reader.header + 6;
        offset += 2 + 2 * reader.readUnsignedShort(offset); // interfaces
        offset = skipMembers(reader, offset); // fields
        int declared = 0;
        char[] buffer = new char[reader.getMaxStringLength()];
        int methods = reader.readUnsignedShort(offset);
        offset += 2;
        for (int i = 0; i < methods; i++) {
            declared |= INSTRUMENTED_NAMES.getOrDefault(reader.readUTF8(offset + 2, buffer), 0);
            offset = skipMember(reader, offset);
        }
        return declared;
    }

    private static int skipMembers(ClassReader reader, int offset) {
        int count = reader.readUnsignedShort(offset);
        offset += 2;
        for (int i = 0; i < count; i++) offset = skipMember(reader, offset);
        return offset;
    }

    /** From a field's or method's access flags past its attributes. */
    private static int skipMember(ClassReader reader, int offset) {
        int attributes = reader.readUnsignedShort(offset + 6);
        offset += 8;
        for (int i = 0; i < attributes; i++) offset += 6 + reader.readInt(offset + 2);
        return offset;
    }

    /**
     * What the guard never instruments: the JDK's classes, txguard's own, and whatever the bootstrap loader loads
     * (it cannot see java.sql). Byte Buddy's guard transformer is told the same (TxGuardAgent).
     */
    static boolean isNeverGuarded(String internalName, ClassLoader loader) {
        return loader == null || internalName.startsWith("java/") || internalName.startsWith("javax/")
                || internalName.startsWith("jdk/") || internalName.startsWith("sun/")
                || internalName.startsWith("com/sun/") || isTxguards(internalName);
    }

    /** Class loaders whose loadClass needs no LoadClassAdvice: the JDK's own internal ones find txguard anyway. */
    static boolean isLoaderLeftAlone(String internalName) {
        return internalName.startsWith("jdk/internal/") || isTxguards(internalName);
    }

    private static final String ENGINE = LoadClassAdvice.ENGINE.replace('.', '/');
    private static final String AGENT = LoadClassAdvice.AGENT.replace('.', '/');
    private static final String PUBLIC_API = LoadClassAdvice.PUBLIC_API.replace('.', '/');

    /** txguard's engine, its agent (and the Byte Buddy within) and its public API, never instrumented. */
    static boolean isTxguards(String internalName) {
        return internalName.startsWith(ENGINE) || internalName.startsWith(AGENT) || internalName.startsWith(PUBLIC_API);
    }
}
