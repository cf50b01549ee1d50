package dev.txguard.agent;

/**
 * The class file of the class being loaded or retransformed on this thread, as the JVM hands it to the agent's
 * transformer (Triage): kept while it and Byte Buddy look at the class, so that the agent's matchers read a class's
 * header and bytecode from it rather than find and read its class file once more.
 */
final class LoadingClassFile {

    private static final ThreadLocal<LoadingClassFile> CURRENT = new ThreadLocal<>();

    private final ClassLoader loader;
    private final String internalName;
    private final byte[] bytes;

    private LoadingClassFile(ClassLoader loader, String internalName, byte[] bytes) {
        this.loader = loader;
        this.internalName = internalName;
        this.bytes = bytes;
    }

    /** Kept while Triage looks at the class, and Byte Buddy after it (transformers do not run nested). */
    static void set(ClassLoader loader, String internalName, byte[] bytes) {
        CURRENT.set(new LoadingClassFile(loader, internalName, bytes));
    }

    static void clear() {
        CURRENT.remove();
    }

    /** The class file of the class being loaded by {@code loader} under {@code binaryName}, or null. */
    static byte[] of(ClassLoader loader, String binaryName) {
        LoadingClassFile current = CURRENT.get();
        if (current == null || current.loader != loader) return null;
        int length = binaryName.length();
        if (current.internalName.length() != length) return null;
        for (int i = 0; i < length; i++) {
            char c = binaryName.charAt(i);
            if (current.internalName.charAt(i) != (c == '.' ? '/' : c)) return null;
        }
        return current.bytes;
    }
}
