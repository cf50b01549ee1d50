package dev.txguard.it;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What compiled classes refer to, read from their constant pools: every class they name and every
 * method or constructor they call. Lets a test prove that txguard's own code cannot open a socket or
 * write a file, on every path and not only those a test happens to run.
 */
public final class ClassReferences {

    /** Calls and class uses that reach the network, write files or start processes. */
    private static final String[] FORBIDDEN_CLASSES = {
        "java/net/Socket", "java/net/ServerSocket", "java/net/DatagramSocket", "java/net/MulticastSocket",
        "java/net/URLConnection", "java/net/HttpURLConnection", "java/net/http/", "javax/net/",
        "java/nio/channels/", "java/io/FileOutputStream", "java/io/FileWriter", "java/io/RandomAccessFile",
        "java/util/logging/FileHandler", "java/lang/ProcessBuilder", "java/rmi/", "com/sun/tools/attach/",
    };
    private static final String[] FORBIDDEN_METHODS = {
        "java/net/URL.openConnection", "java/net/URL.openStream",
        "java/nio/file/Files.write", "java/nio/file/Files.newOutputStream", "java/nio/file/Files.newBufferedWriter",
        "java/nio/file/Files.newByteChannel", "java/nio/file/Files.create", "java/nio/file/Files.delete",
        "java/nio/file/Files.move", "java/nio/file/Files.copy", "java/nio/file/Files.set",
        "java/io/File.createNewFile", "java/io/File.createTempFile", "java/io/File.delete", "java/io/File.mkdir",
        "java/io/File.renameTo", "java/io/File.set", "java/lang/Runtime.exec",
        "java/io/PrintWriter.<init>(Ljava/lang/String;", "java/io/PrintWriter.<init>(Ljava/io/File;",
        "java/io/PrintStream.<init>(Ljava/lang/String;", "java/io/PrintStream.<init>(Ljava/io/File;",
    };

    private ClassReferences() {}

    /** The classes directory (or jar root) a class was loaded from. */
    public static Path classesOf(Class<?> type) throws Exception {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /**
     * Every reference under {@code classes} that could open a socket, write a file or start a process, as
     * {@code class -> reference}, inner classes under their own names.
     */
    public static List<String> sideEffectsUnder(Path classes) throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class")).sorted()::iterator) {
                String name = classes.relativize(file).toString().replace('\\', '/').replaceAll("\\.class$", "");
                for (String reference : referencesOf(file)) {
                    if (isSideEffect(reference)) found.add(name + " -> " + reference);
                }
            }
        }
        return found;
    }

    static boolean isSideEffect(String reference) {
        for (String prefix : FORBIDDEN_CLASSES) {
            if (reference.startsWith(prefix)) return true;
        }
        for (String prefix : FORBIDDEN_METHODS) {
            if (reference.startsWith(prefix)) return true;
        }
        return false;
    }

    /** Class names ({@code java/net/Socket}) and calls ({@code java/net/URL.openStream()Ljava/io/InputStream;}). */
    static Set<String> referencesOf(Path classFile) throws IOException {
        try (InputStream in = Files.newInputStream(classFile)) {
            return referencesOf(new DataInputStream(in));
        }
    }

    private static Set<String> referencesOf(DataInputStream in) throws IOException {
        if (in.readInt() != 0xCAFEBABE) throw new IOException("not a class file");
        in.readUnsignedShort();
        in.readUnsignedShort();
        int count = in.readUnsignedShort();
        String[] utf8 = new String[count];
        int[] first = new int[count];
        int[] second = new int[count];
        int[] tag = new int[count];
        for (int i = 1; i < count; i++) {
            tag[i] = in.readUnsignedByte();
            switch (tag[i]) {
                case 1: utf8[i] = in.readUTF(); break;
                case 3: case 4: in.readInt(); break;
                case 5: case 6: in.readLong(); i++; break;
                case 7: case 8: case 16: case 19: case 20: first[i] = in.readUnsignedShort(); break;
                case 9: case 10: case 11: case 12: case 17: case 18:
                    first[i] = in.readUnsignedShort();
                    second[i] = in.readUnsignedShort();
                    break;
                case 15: in.readUnsignedByte(); first[i] = in.readUnsignedShort(); break;
                default: throw new IOException("unknown constant pool tag " + tag[i]);
            }
        }
        Set<String> references = new TreeSet<>();
        for (int i = 1; i < count; i++) {
            if (tag[i] == 7) {
                references.add(utf8[first[i]]);
            } else if (tag[i] == 10 || tag[i] == 11) {
                String owner = utf8[first[first[i]]];
                int nameAndType = second[i];
                references.add(owner + "." + utf8[first[nameAndType]] + utf8[second[nameAndType]]);
            }
        }
        return references;
    }
}
