package dev.txguard.benchmarks;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.SplittableRandom;
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
import org.openjdk.jmh.annotations.Threads;

/**
 * The {@link Bank} transfer from four threads, one JMH fork per variant. Between forks this workload's
 * throughput moves by more than txguard's cost; {@link BankInterleaved} measures the same transfer with
 * the variants' JVMs taking short turns.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(4)
public class BankWorkload {

    @Param({"raw", "txguard", "agent-activations"})
    public String variant;

    private HikariDataSource pool;
    private Bank bank;

    @State(Scope.Thread)
    public static class Teller {
        final SplittableRandom random = new SplittableRandom();
    }

    @Setup(Level.Trial)
    public void open() throws SQLException {
        pool = Bank.pool(variant, false);
        try (Connection c = pool.getConnection()) {
            Bank.create(c);
        }
        bank = new Bank(pool, variant, 0, false);
    }

    @TearDown(Level.Trial)
    public void close() throws SQLException {
        try (Connection c = pool.getConnection()) {
            Bank.drop(c);
        }
        pool.close();
    }

    @Benchmark
    public boolean transfer(Teller teller) throws SQLException {
        return bank.transfer(teller.random);
    }
}
