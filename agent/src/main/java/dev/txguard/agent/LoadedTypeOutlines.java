package dev.txguard.agent;

import java.lang.reflect.Modifier;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;
import net.bytebuddy.utility.JavaModule;

/**
 * The last place the agent looks for a class file: a type its loader serves no class file for, but loads. Mockito's
 * inline mock maker, for one, injects MockMethodDispatcher into the bootstrap loader without a class file, and
 * extends it; without an answer here, every such class could not be matched, and each failure was an error. The
 * answer is an outline made from the loaded type: its name, modifiers, super class and interfaces, which is all that
 * matching reads of a super type (no member; a type read here is never instrumented, as the JVM hands over the class
 * file of a class it instruments). Such a type is loaded, not initialised: a super type the JVM loads anyway to
 * define the class being matched. A type that cannot be loaded either stays unresolved, as before.
 */
final class LoadedTypeOutlines implements ClassFileLocator {

    /** For AgentBuilder's location strategies: an outline locator for each class loader. */
    static final AgentBuilder.LocationStrategy STRATEGY = new AgentBuilder.LocationStrategy() {
        @Override
        public ClassFileLocator classFileLocator(ClassLoader loader, JavaModule module) {
            return new LoadedTypeOutlines(loader);
        }
    };

    private static final int KEPT_MODIFIERS = Modifier.PUBLIC | Modifier.FINAL | Modifier.INTERFACE | Modifier.ABSTRACT
            | Opcodes.ACC_ANNOTATION | Opcodes.ACC_ENUM | Opcodes.ACC_SYNTHETIC;

    private final ClassLoader loader;

    private LoadedTypeOutlines(ClassLoader loader) {
        this.loader = loader;
    }

    @Override
    public Resolution locate(String name) {
        Class<?> type;
        try {
            type = Class.forName(name, false, loader);
        } catch (ClassNotFoundException | LinkageError notThere) {
            return new Resolution.Illegal(name);
        }
        return new Resolution.Explicit(outline(type));
    }

    static byte[] outline(Class<?> type) {
        int access = type.getModifiers() & KEPT_MODIFIERS;
        if (!type.isInterface()) access |= Opcodes.ACC_SUPER;
        Class<?> superClass = type.getSuperclass();
        Class<?>[] interfaces = type.getInterfaces();
        String[] interfaceNames = new String[interfaces.length];
        for (int i = 0; i < interfaces.length; i++) interfaceNames[i] = Type.getInternalName(interfaces[i]);
        ClassWriter writer = new ClassWriter(0);
        writer.visit(Opcodes.V1_8, access, Type.getInternalName(type), null,
                superClass == null ? (type.isInterface() ? "java/lang/Object" : null) : Type.getInternalName(superClass),
                interfaceNames);
        writer.visitEnd();
        return writer.toByteArray();
    }

    @Override
    public void close() {}
}
