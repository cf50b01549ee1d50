package dev.txguard.frames;

import java.util.function.Supplier;

/** Application frames for tests of txguard's stack walks (txguard's own frames are left out of them). */
public final class Recursion {

    private Recursion() {}

    /** Runs {@code action} below {@code frames} activations of this method. */
    public static <T> T down(int frames, Supplier<T> action) {
        return frames == 1 ? action.get() : down(frames - 1, action);
    }
}
