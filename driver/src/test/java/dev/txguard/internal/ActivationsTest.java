package dev.txguard.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Each thread's activations, found through its slot or its thread-local: never another thread's. */
class ActivationsTest {

    @Test
    void threadsThatShareASlotEachKeepTheirOwnActivations() throws Exception {
        AtomicReference<Activations.Stack> firsts = new AtomicReference<>();
        AtomicReference<Activations.Stack> seconds = new AtomicReference<>();
        CountDownLatch firstInside = new CountDownLatch(1);
        CountDownLatch secondDone = new CountDownLatch(1);
        Thread first = threadInFreeSlot(() -> {
            Activations.Stack stack = Activations.enter("First", "run");
            firsts.set(stack);
            firstInside.countDown();
            try {
                secondDone.await(); // alive, and inside its method, while the second runs
                assertSame(stack, Activations.current());
                assertEquals(1, stack.size);
                assertEquals("First", stack.types[0]);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            } finally {
                Activations.exit(stack);
            }
        });
        int slot = Activations.slotOf(first);
        Thread second = threadInSlot(slot, () -> {
            try {
                Activations.Stack stack = Activations.enter("Second", "run");
                seconds.set(stack);
                assertSame(stack, Activations.current());
                assertEquals(1, stack.size);
                assertEquals("Second", stack.types[0]);
                Activations.exit(stack);
            } finally {
                secondDone.countDown();
            }
        });
        AtomicReference<Throwable> failure = new AtomicReference<>();
        first.setUncaughtExceptionHandler((t, e) -> failure.set(e));
        second.setUncaughtExceptionHandler((t, e) -> failure.set(e));
        first.start();
        firstInside.await();
        second.start();
        second.join();
        first.join();
        if (failure.get() != null) throw new AssertionError("in a thread", failure.get());
        assertNotSame(firsts.get(), seconds.get());
        assertSame(firsts.get(), Activations.SLOTS[slot], "a live thread's slot is not taken from it");
        assertEquals(0, firsts.get().size);
    }

    @Test
    void aSlotWhoseThreadIsGoneGoesToTheNextThreadThatNeedsIt() throws Exception {
        AtomicReference<Activations.Stack> ended = new AtomicReference<>();
        Thread first = threadInFreeSlot(() -> ended.set(Activations.current()));
        int slot = Activations.slotOf(first);
        first.start();
        first.join();
        assertSame(ended.get(), Activations.SLOTS[slot]);

        AtomicReference<Activations.Stack> next = new AtomicReference<>();
        Thread whileStillReachable = threadInSlot(slot, () -> next.set(Activations.current()));
        whileStillReachable.start();
        whileStillReachable.join();
        assertNotSame(ended.get(), next.get());
        assertSame(ended.get(), Activations.SLOTS[slot], "kept while the ended thread can still be reached");

        ended.get().thread.clear(); // as the collector does once the ended thread is unreachable
        Thread afterCollection = threadInSlot(slot, () -> next.set(Activations.current()));
        afterCollection.start();
        afterCollection.join();
        assertSame(next.get(), Activations.SLOTS[slot]);
    }

    /** A new thread whose slot nobody holds, so that the test knows who takes it first. */
    private static Thread threadInFreeSlot(Runnable task) {
        for (int tries = 0; tries < 4 * Activations.SLOTS.length; tries++) {
            Thread t = new Thread(task);
            if (Activations.SLOTS[Activations.slotOf(t)] == null) return t;
        }
        throw new AssertionError("no free slot among " + Activations.SLOTS.length);
    }

    /** Thread ids are handed out in order, so one of the next threads lands in any given slot. */
    private static Thread threadInSlot(int slot, Runnable task) {
        for (int tries = 0; tries < 4 * Activations.SLOTS.length; tries++) {
            Thread t = new Thread(task);
            if (Activations.slotOf(t) == slot) return t;
        }
        throw new AssertionError("no thread in slot " + slot);
    }
}
