package dev.txguard.benchmarks;

import dev.txguard.frames.FrameworkFrames;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Issue 4 part 2: one begin / insert / commit / restore cycle, the legacy DAO shape, issued from under
 * a stack of the given depth (real applications run JDBC under deep framework stacks). The frames below
 * are a framework's ({@link FrameworkFrames}), not the application's, so that under the agent with
 * txguard.application they are not instrumented, as a real framework's would not be. On the stub
 * database (StubDatabase), which answers every call at once, what is left of the difference from raw is
 * txguard's own cost per cycle, without H2's spread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TransactionControl {

    @Param({"raw", "txguard", "agent", "agent-activations"})
    public String variant;

    @Param({"10", "100", "300"})
    public int depth;

    @Param({Connections.H2, Connections.STUB})
    public String database;

    private Connection c;
    private PreparedStatement insert;
    private int nextId;

    @Setup(Level.Trial)
    public void open() throws SQLException {
        c = Connections.open(variant, database);
        Connections.execute(c, "DROP TABLE IF EXISTS bench_cycle", "CREATE TABLE bench_cycle (id INT PRIMARY KEY)");
        insert = c.prepareStatement("INSERT INTO bench_cycle (id) VALUES (?)");
    }

    @Setup(Level.Iteration)
    public void empty() throws SQLException {
        Connections.execute(c, "TRUNCATE TABLE bench_cycle");
        nextId = 0;
    }

    @TearDown(Level.Trial)
    public void close() throws SQLException {
        c.close();
    }

    @Benchmark
    public int cycle() {
        return FrameworkFrames.under(depth, this::daoCycle);
    }

    /** The DAO at the top of the stack: begin, insert, commit, restore. */
    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    private int daoCycle() {
        try {
            return cycleOnce();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private int cycleOnce() throws SQLException {
        c.setAutoCommit(false);
        try {
            insert.setInt(1, nextId++);
            int n = insert.executeUpdate();
            c.commit();
            return n;
        } finally {
            c.setAutoCommit(true);
        }
    }
}
