package dev.txguard.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * What the agent with txguard.application costs the application's own code, away from any JDBC: ten
 * calls of application methods that are not inlined, each of which calls the next. Under the agent each
 * of them reports its entry and exit (a thread-local push and pop); without it, nothing is added.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MethodCalls {

    static final int CALLS = 10;

    @Param({"raw", "agent-activations"})
    public String variant;

    private int seed = 17;

    @Benchmark
    public int tenCalls() {
        return step(CALLS, seed);
    }

    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    private int step(int left, int value) {
        int next = value * 31 + left;
        return left == 1 ? next : step(left - 1, next);
    }
}
