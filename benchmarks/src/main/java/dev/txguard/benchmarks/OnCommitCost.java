package dev.txguard.benchmarks;

import dev.txguard.TxGuard;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What an on-commit callback costs (TxGuard.onCommit): the legacy DAO's begin / insert / commit / restore cycle,
 * registering {@code callbacks} callbacks before its commit, each of which adds to a counter when it runs. Against
 * the stub database, which answers every call at once, so that the difference between 0 and N callbacks is
 * txguard's work for them: registering, keeping, and running each after the commit.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.openjdk.jmh.Main OnCommitCost -f 2 -wi 5 -i 5 -w 1 -r 1 -prof gc \
 *   -jvmArgsAppend "-XX:CompileCommand=quiet -XX:CompileCommand=dontinline,dev.txguard.stubdb.*::*"
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class OnCommitCost {

    @Param({"0", "1", "4", "16"})
    public int callbacks;

    @Param({Connections.STUB})
    public String database;

    private Connection c;
    private PreparedStatement insert;
    private int nextId;
    private long ran;
    private final Runnable callback = () -> ran++;

    @Setup(Level.Trial)
    public void open() throws SQLException {
        c = Connections.open("txguard", database);
        Connections.execute(c, "DROP TABLE IF EXISTS bench_cycle", "CREATE TABLE bench_cycle (id INT PRIMARY KEY)");
        insert = c.prepareStatement("INSERT INTO bench_cycle (id) VALUES (?)");
    }

    @TearDown(Level.Trial)
    public void close() throws SQLException {
        if (ran % Math.max(1, callbacks) != 0) throw new IllegalStateException("a callback ran a wrong number of times");
        c.close();
    }

    @Benchmark
    public long cycle() throws SQLException {
        c.setAutoCommit(false);
        try {
            insert.setInt(1, nextId++);
            insert.executeUpdate();
            for (int i = 0; i < callbacks; i++) TxGuard.onCommit(c, callback);
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
        return ran;
    }
}
