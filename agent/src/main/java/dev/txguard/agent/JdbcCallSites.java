package dev.txguard.agent;

import java.util.HashSet;
import java.util.Set;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;

/**
 * Which methods of a class call JDBC, and which call something that may run application code: found
 * in its bytecode, once, when the class is loaded. Only methods that call JDBC report their
 * activations, and in the application's own classes also every method of the second kind (a service
 * calling its DAOs, a {@code Tx.begin(c)} helper); the others cannot be below a JDBC call, and cost nothing.
 */
final class JdbcCallSites {

    /** Name and descriptor ({@code save(I)V}) of each method that calls a transaction or statement method of JDBC. */
    final Set<String> callingJdbc = new HashSet<>();
    /** ... and of each method that calls something that may run application code (JDBC among it). */
    final Set<String> mayRunApplicationCode = new HashSet<>();

    private static final JdbcCallSites NONE = new JdbcCallSites();

    /**
     * JDK classes whose methods never call back into application code: a method that calls only these
     * (string building, arithmetic, boxing) cannot be below a JDBC call, and is spared the per-call cost.
     */
    private static final Set<String> CANNOT_CALL_BACK = Set.of(
            "java/lang/String", "java/lang/StringBuilder", "java/lang/Math", "java/lang/StrictMath",
            "java/lang/Integer", "java/lang/Long", "java/lang/Short", "java/lang/Byte", "java/lang/Character",
            "java/lang/Boolean", "java/lang/Double", "java/lang/Float",
            "java/lang/invoke/StringConcatFactory", "java/lang/invoke/LambdaMetafactory");

    private static final Set<String> EVENTS = Set.of(
            "setAutoCommit", "commit", "rollback", "setSavepoint", "releaseSavepoint", "close", "clearWarnings",
            "endRequest", "execute", "executeUpdate", "executeLargeUpdate", "executeQuery", "executeBatch",
            "executeLargeBatch", "addBatch", "updateRow", "insertRow", "deleteRow", "refreshRow");

    /**
     * Connection's transaction methods by name and descriptor: called on a driver's own connection class (one
     * the application unwrapped), they are JDBC calls as much as through java.sql's interface.
     */
    private static final Set<String> TRANSACTION_METHODS = Set.of(
            "setAutoCommit(Z)V", "commit()V", "rollback()V", "rollback(Ljava/sql/Savepoint;)V",
            "setSavepoint()Ljava/sql/Savepoint;", "setSavepoint(Ljava/lang/String;)Ljava/sql/Savepoint;",
            "releaseSavepoint(Ljava/sql/Savepoint;)V");

    private JdbcCallSites() {}

    /**
     * A driver's connection class or interface, by the name every driver gives it (PgConnection, PGConnection,
     * JdbcConnection, OracleConnection, MariaDB's Connection): a session class inside a database engine with
     * methods of the same shape (H2's SessionLocal.setAutoCommit) is not a JDBC call site.
     */
    private static boolean isConnectionClass(String internalName) {
        return internalName.endsWith("Connection") && !internalName.startsWith("java/");
    }

    /**
     * The class last read on this thread: the matcher reads it, then the transformer asks again for it. Its
     * loader is held weakly, so that a thread does not keep an undeployed application's loader alive.
     */
    private static final ThreadLocal<Object[]> LAST = new ThreadLocal<>();

    /**
     * @param application whether the class is the application's: only then is {@link #mayRunApplicationCode} asked
     *     for, and a class of anyone else's whose constant pool names no class a JDBC call goes to is not read
     *     further.
     */
    static JdbcCallSites of(ClassLoader loader, String typeName, boolean application) {
        Object[] last = LAST.get();
        if (last != null && ((java.lang.ref.Reference<?>) last[0]).get() == loader && last[1].equals(typeName)
                && last[3].equals(application)) {
            return (JdbcCallSites) last[2];
        }
        JdbcCallSites sites = read(loader, typeName, application);
        LAST.set(new Object[] {new java.lang.ref.WeakReference<>(loader), typeName, sites, application});
        return sites;
    }

    private static JdbcCallSites read(ClassLoader loader, String typeName, boolean application) {
        byte[] bytes = LoadingClassFile.of(loader, typeName); // the class being loaded: as the JVM handed it over
        if (bytes == null) bytes = classFile(loader, typeName);
        if (bytes == null) return NONE; // defined at run time, without a class file, or unreadable
        return application || namesJdbcClasses(bytes) ? of(bytes) : NONE;
    }

    private static byte[] classFile(ClassLoader loader, String typeName) {
        try {
            ClassFileLocator.Resolution resolution = ClassFileLocator.ForClassLoader.of(loader).locate(typeName);
            return resolution.isResolved() ? resolution.resolve() : null;
        } catch (java.io.IOException unreadable) {
            return null;
        }
    }

    /**
     * Whether the class's constant pool names a class a JDBC call goes to (java.sql's, or a driver's connection
     * class): a method that calls JDBC names its target's class there, so without one no method of the class calls
     * JDBC, and reading the constant pool is much cheaper than reading every method's code.
     */
    static boolean namesJdbcClasses(byte[] classFile) {
        ClassReader reader = new ClassReader(classFile);
        char[] buffer = new char[reader.getMaxStringLength()];
        for (int i = 1; i < reader.getItemCount(); i++) {
            int offset = reader.getItem(i);
            if (offset == 0 || classFile[offset - 1] != CONSTANT_CLASS) continue;
            String name = reader.readUTF8(offset, buffer);
            if (name.startsWith("java/sql/") || isConnectionClass(name)) return true;
        }
        return false;
    }

    private static final int CONSTANT_CLASS = 7;

    static JdbcCallSites of(byte[] classFile) {
        JdbcCallSites found = new JdbcCallSites();
        new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                             String[] exceptions) {
                String method = name + descriptor;
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMethodInsn(int opcode, String owner, String called, String calledDescriptor,
                                                boolean isInterface) {
                        if (!CANNOT_CALL_BACK.contains(owner)) found.mayRunApplicationCode.add(method);
                        if (owner.startsWith("java/sql/") ? EVENTS.contains(called)
                                : isConnectionClass(owner) && TRANSACTION_METHODS.contains(called + calledDescriptor)) {
                            found.callingJdbc.add(method);
                        }
                    }

                    @Override
                    public void visitInvokeDynamicInsn(String called, String calledDescriptor,
                                                       net.bytebuddy.jar.asm.Handle bootstrap, Object... arguments) {
                        // Joining strings and creating a lambda run no application code; the lambda's body is
                        // a method of its own, instrumented on its own merits.
                        if (!CANNOT_CALL_BACK.contains(bootstrap.getOwner())) found.mayRunApplicationCode.add(method);
                    }
                };
            }
        }, ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        return found;
    }
}
