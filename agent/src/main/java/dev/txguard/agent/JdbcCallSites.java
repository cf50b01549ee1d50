package dev.txguard.agent;

import java.util.HashSet;
import java.util.Set;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;

/**
 * Which methods of a class call JDBC: found in its bytecode, once, when the class is loaded. Only
 * those methods report their activations; the others cost nothing.
 */
final class JdbcCallSites {

    private static final Set<String> EVENTS = Set.of(
            "setAutoCommit", "commit", "rollback", "setSavepoint", "releaseSavepoint", "close", "clearWarnings",
            "endRequest", "execute", "executeUpdate", "executeLargeUpdate", "executeQuery", "executeBatch",
            "executeLargeBatch", "addBatch");

    private JdbcCallSites() {}

    /** Name and descriptor ({@code save(I)V}) of each method that calls a transaction or statement method of JDBC. */
    static Set<String> of(ClassLoader loader, String typeName) {
        byte[] bytes;
        try {
            ClassFileLocator.Resolution resolution = ClassFileLocator.ForClassLoader.of(loader).locate(typeName);
            if (!resolution.isResolved()) return Set.of(); // defined at run time, without a class file
            bytes = resolution.resolve();
        } catch (java.io.IOException unreadable) {
            return Set.of();
        }
        return of(bytes);
    }

    static Set<String> of(byte[] classFile) {
        Set<String> found = new HashSet<>();
        new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                             String[] exceptions) {
                String method = name + descriptor;
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMethodInsn(int opcode, String owner, String called, String calledDescriptor,
                                                boolean isInterface) {
                        if (owner.startsWith("java/sql/") && EVENTS.contains(called)) found.add(method);
                    }
                };
            }
        }, ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        return found;
    }
}
