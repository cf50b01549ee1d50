package dev.txguard.benchmarks;

import dev.txguard.frames.FrameworkFrames;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The floor under a begin in driver mode: what one StackWalker walk costs by the number of frames it
 * reads, from under a stack 100 frames deep, with no txguard in the JVM. A begin reads txguard's own
 * frames and 16 of the application's (CallStack.BEGIN_WALK), with a walker told to expect that many, as
 * each variant here is; {@code none} runs the same frames without a walk (the baseline), and
 * {@code caller-class} asks the cheapest question the JDK answers about the stack, the class of one
 * caller (StackWalker.getCallerClass), which names no method and no call site.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class StackWalks {

    static final String NONE = "none";
    static final String CALLER_CLASS = "caller-class";
    /** Slots of a walk's first batch that the walk's own frames take, and one frame of slack: as CallStack's walkers. */
    private static final int WALK_OVERHEAD = 4;

    @Param({NONE, CALLER_CLASS, "1", "4", "8", "16", "24"})
    public String variant;

    private StackWalker walker;
    private boolean none;
    private boolean callerClass;
    private int frames;

    @Setup
    public void choose() {
        none = variant.equals(NONE);
        callerClass = variant.equals(CALLER_CLASS);
        frames = none || callerClass ? 1 : Integer.parseInt(variant);
        walker = StackWalker.getInstance(Set.of(StackWalker.Option.RETAIN_CLASS_REFERENCE,
                StackWalker.Option.SHOW_REFLECT_FRAMES), frames + WALK_OVERHEAD);
    }

    @Benchmark
    public int walk() {
        return FrameworkFrames.under(100, this::top);
    }

    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    private int top() {
        if (none) return 1;
        if (callerClass) return walker.getCallerClass().hashCode();
        return walker.walk(this::read);
    }

    /** Reads each frame's class, as CallStack does to know what kind of frame it is. */
    private int read(Stream<StackWalker.StackFrame> stream) {
        int sum = 0;
        int read = 0;
        for (Iterator<StackWalker.StackFrame> it = stream.iterator(); read < frames && it.hasNext(); read++) {
            sum += it.next().getDeclaringClass().hashCode();
        }
        return sum;
    }
}
