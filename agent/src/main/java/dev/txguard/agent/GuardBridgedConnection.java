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
 * For a {@code connect} or {@code getConnection()} that returns a driver's or pool's own connection class
 * (MariaDB's driver and pooled connection, Druid's data source): a guarded connection cannot be returned as that
 * class, so the guard goes into the bridge method the compiler wrote for {@code java.sql.Driver.connect},
 * {@code javax.sql.PooledConnection.getConnection()} or {@code javax.sql.DataSource.getConnection()}, which is
 * what DriverManager, a pool, an application server or a framework calls. Byte Buddy's advice does not reach
 * bridges, so this rewrites the bridge's bytecode itself: {@code Guard.guardReturned} on the value it returns,
 * which is the guard put over it in place (GuardConnectionAdvice.InPlace, on the method the bridge calls).
 */
final class GuardBridgedConnection implements AsmVisitorWrapper {

    private static final String GET_CONNECTION = "()Ljava/sql/Connection;";
    private static final String CONNECT = "(Ljava/lang/String;Ljava/util/Properties;)Ljava/sql/Connection;";
    private static final String GUARD = "(Ljava/lang/Object;Ljava/sql/Connection;)Ljava/sql/Connection;";

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
                boolean handsOutConnections = name.equals("getConnection") && descriptor.equals(GET_CONNECTION)
                        || name.equals("connect") && descriptor.equals(CONNECT);
                if ((access & Opcodes.ACC_BRIDGE) == 0 || !handsOutConnections) return method;
                return new MethodVisitor(Opcodes.ASM9, method) {
                    @Override
                    public void visitInsn(int opcode) {
                        if (opcode == Opcodes.ARETURN) {
                            super.visitVarInsn(Opcodes.ALOAD, 0); // the source, under the returned connection
                            super.visitInsn(Opcodes.SWAP);
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, "dev/txguard/internal/Guard", "guardReturned", GUARD, false);
                        }
                        super.visitInsn(opcode);
                    }

                    @Override
                    public void visitMaxs(int maxStack, int maxLocals) {
                        super.visitMaxs(Math.max(maxStack, 2), maxLocals);
                    }
                };
            }
        };
    }
}
