package dev.txguard.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.frames.Recursion;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Walks fetch their frames in batches sized from the previous walk; whatever the last walk was, shallow or
 * whole, a walk sees the same frames.
 */
class CallStackTest {

    private static final MethodPattern[] NONE = new MethodPattern[0];
    private static final String RECURSION = Recursion.class.getName() + ".down";

    @Test
    void aWalkSeesTheSameFrames_whateverTheWalkBeforeIt() {
        CallStack first = down(3, () -> CallStack.captureBegin(Config.DEFAULTS));
        for (int round = 0; round < 3; round++) {
            down(90, () -> CallStack.captureWhole(NONE)); // the next walk is sized for a deep stack
            assertSameFrames(first, down(3, () -> CallStack.captureBegin(Config.DEFAULTS)));
            down(1, () -> CallStack.capture(Config.DEFAULTS)); // ... for a short one
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

    private static CallStack down(int frames, Supplier<CallStack> capture) {
        return Recursion.down(frames, capture);
    }
}
