package dev.txguard.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.frames.Recursion;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Walks fetch their frames in batches sized from the previous walk of their kind; whatever the walks before
 * were, shallow or whole, a walk sees the same frames.
 */
class CallStackTest {

    private static final MethodPattern[] NONE = new MethodPattern[0];
    private static final String RECURSION = Recursion.class.getName() + ".down";

    @Test
    void aWalkSeesTheSameFrames_whateverTheWalkBeforeIt() {
        CallStack first = down(3, () -> CallStack.captureBegin(Config.DEFAULTS));
        for (int round = 0; round < 3; round++) {
            // A begin's walk is sized from the last begin's: one that read many frames (txguard's own, here) ...
            ours(60, () -> CallStack.captureBegin(Config.DEFAULTS));
            assertSameFrames(first, down(3, () -> CallStack.captureBegin(Config.DEFAULTS)));
            // ... and one that read few (a thread's short stack): the next needs a second batch.
            onShortStack(() -> CallStack.captureBegin(Config.DEFAULTS));
            assertSameFrames(first, down(3, () -> CallStack.captureBegin(Config.DEFAULTS)));
            // Other events' walks and whole walks do not size a begin's.
            down(1, () -> CallStack.capture(Config.DEFAULTS));
            down(90, () -> CallStack.captureWhole(NONE));
            assertSameFrames(first, down(3, () -> CallStack.captureBegin(Config.DEFAULTS)));
        }
        CallStack deep = down(40, () -> CallStack.captureBegin(Config.DEFAULTS));
        assertEquals(CallStack.BEGIN_WALK, deep.walked());
        for (int p = 0; p < CallStack.BEGIN_WALK; p++) assertEquals(RECURSION, deep.method(p));
    }

    /**
     * The walkers are told to show the JDK's reflection frames (so that the JDK does not test every frame
     * for them); they pass a call along like the rest of the JDK's, and are left out of the application frames.
     */
    @Test
    void reflectionBetweenApplicationFramesIsLeftOut() throws Exception {
        java.lang.reflect.Method down = Recursion.class.getMethod("down", int.class, Supplier.class);
        Supplier<CallStack> capture = () -> CallStack.captureBegin(Config.DEFAULTS);
        CallStack here = down(2, () -> {
            try {
                return (CallStack) down.invoke(null, 2, capture);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        });
        for (int p = 0; p < 4; p++) assertEquals(RECURSION, here.method(p), "frame " + p);
    }

    private static void assertSameFrames(CallStack expected, CallStack actual) {
        assertEquals(expected.walked(), actual.walked());
        assertTrue(actual.walked() >= 3, "the three frames of the recursion at least");
        for (int p = 0; p < expected.walked(); p++) assertEquals(expected.method(p), actual.method(p));
        for (int p = 0; p < 3; p++) assertEquals(RECURSION, actual.method(p));
    }

    /** Below {@code frames} frames of txguard's own (this class is in its package): walked, not kept. */
    private static CallStack ours(int frames, Supplier<CallStack> capture) {
        return frames == 0 ? capture.get() : ours(frames - 1, capture);
    }

    private static void onShortStack(Supplier<CallStack> capture) {
        Thread thread = new Thread(capture::get);
        thread.start();
        try {
            thread.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static CallStack down(int frames, Supplier<CallStack> capture) {
        return Recursion.down(frames, capture);
    }
}
