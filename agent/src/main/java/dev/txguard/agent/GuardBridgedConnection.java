package dev.txguard.agent;

import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.field.FieldList;
import net.bytebuddy.description.method.MethodList;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.pool.TypePool;

/**
 * For a {@code getConnection()} that returns a driver's own connection class (MariaDB's pooled connection):
 * a guarded connection cannot be returned as that class, so the guard goes into the bridge method the
 * compiler wrote for {@code javax.sql.PooledConnection.getConnection()} (or DataSource's), which is what a
 * pool or an application server calls. Byte Buddy's advice does not reach bridges, so this rewrites the
 * bridge's bytecode itself: {@code Guard.wrap} on the value it returns.
 */
final class GuardBridgedConnection implements AsmVisitorWrapper {

    private static final String CONNECTION = "()Ljava/sql/Connection;";
    private static final String WRAP = "(Ljava/sql/Connection;)Ljava/sql/Connection;";

    @Override
    public int mergeWriter(int flags) {
        return flags;
    }

    @Override
    public int mergeReader(int flags) {
        return flags;
    }

    @Override
    public ClassVisitor wrap(TypeDescription instrumentedType, ClassVisitor classVisitor,
                             Implementation.Context implementationContext, TypePool typePool,
                             FieldList<FieldDescription.InDefinedShape> fields, MethodList<?> methods,
                             int writerFlags, int readerFlags) {
        return new ClassVisitor(Opcodes.ASM9, classVisitor) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                             String[] exceptions) {
                MethodVisitor method = super.visitMethod(access, name, descriptor, signature, exceptions);
                if ((access & Opcodes.ACC_BRIDGE) == 0 || !name.equals("getConnection") || !descriptor.equals(CONNECTION)) {
                    return method;
                }
                return new MethodVisitor(Opcodes.ASM9, method) {
                    @Override
                    public void visitInsn(int opcode) {
                        if (opcode == Opcodes.ARETURN) {
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, "dev/txguard/internal/Guard", "wrap", WRAP, false);
                        }
                        super.visitInsn(opcode);
                    }
                };
            }
        };
    }
}
