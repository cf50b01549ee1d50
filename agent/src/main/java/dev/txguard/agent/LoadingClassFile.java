package dev.txguard.agent;

import java.lang.instrument.ClassFileTransformer;
import java.lang.ref.WeakReference;
import java.security.ProtectionDomain;

/**
 * The class file of the class being loaded or retransformed on this thread, as the JVM hands it to transformers:
 * kept by a transformer of its own, registered before Byte Buddy's, so that the agent's matchers read a class's
 * header and bytecode from it rather than find and read its class file once more, and Byte Buddy parses only the
 * classes the agent instruments. One class a thread: a class loaded while another is being matched replaces it, and
 * whoever asks for the first then reads its class file as before.
 */
final class LoadingClassFile implements ClassFileTransformer {

    private static final ThreadLocal<LoadingClassFile> CURRENT = new ThreadLocal<>();

    /** Held weakly: a thread must not keep an undeployed application's loader alive through its last class. */
    private final WeakReference<ClassLoader> loader;
    private final String internalName;
    private final byte[] bytes;

    private LoadingClassFile(ClassLoader loader, String internalName, byte[] bytes) {
        this.loader = loader == null ? null : new WeakReference<>(loader);
        this.internalName = internalName;
        this.bytes = bytes;
    }

    /** The transformer that keeps them. */
    static ClassFileTransformer keeper() {
        return new ClassFileTransformer() {
            @Override
            public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
                                    ProtectionDomain protectionDomain, byte[] classfileBuffer) {
                if (className != null) CURRENT.set(new LoadingClassFile(loader, className, classfileBuffer));
                return null; // changes nothing
            }
        };
    }

    /** The class file of the class being loaded by {@code loader} under {@code binaryName}, or null. */
    static byte[] of(ClassLoader loader, String binaryName) {
        LoadingClassFile current = CURRENT.get();
        if (current == null || (current.loader == null ? loader != null : current.loader.get() != loader)) return null;
        int length = binaryName.length();
        if (current.internalName.length() != length) return null;
        for (int i = 0; i < length; i++) {
            char c = binaryName.charAt(i);
            if (current.internalName.charAt(i) != (c == '.' ? '/' : c)) return null;
        }
        return current.bytes;
    }
}
