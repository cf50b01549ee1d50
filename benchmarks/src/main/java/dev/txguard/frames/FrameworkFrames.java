package dev.txguard.frames;

import java.util.function.IntSupplier;
import org.openjdk.jmh.annotations.CompilerControl;

/**
 * Frames of a framework between the application's entry point and its DAO: real frames (not inlined)
 * that make no JDBC call. Outside the benchmarks' application classes (txguard.application names
 * dev.txguard.benchmarks.*), as a web framework's or a scheduler's frames would be.
 */
public final class FrameworkFrames {

    private FrameworkFrames() {}

    /** Calls {@code top} from under this many frames. */
    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    public static int under(int levels, IntSupplier top) {
        if (levels > 0) return under(levels - 1, top);
        return top.getAsInt();
    }
}
