package dev.txguard.benchmarks;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Issue 4 part 1: the statement hot path, outside any transaction (autocommit), as most statements run. On
 * the stub database (StubDatabase) the difference from raw is what the proxy itself costs per call.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HotPath {

    @Param({"raw", "txguard", "agent", "agent-activations", "p6spy", "datasource-proxy"})
    public String variant;

    @Param({"h2", "postgresql", "stub"})
    public String database;

    private Connection c;
    private PreparedStatement selectByKey;
    private PreparedStatement insert;
    private PreparedStatement insertBatch;
    private PreparedStatement readThousand;
    private Statement statement;
    private int nextId;
    private int key;

    @Setup(Level.Trial)
    public void open() throws SQLException {
        c = Connections.open(variant, database);
        Connections.createAccounts(c, database);
        Connections.execute(c, "DROP TABLE IF EXISTS bench_lines", "CREATE TABLE bench_lines (id INT PRIMARY KEY, amount BIGINT)");
        selectByKey = c.prepareStatement("SELECT id, owner, balance FROM bench_accounts WHERE id = ?");
        insert = c.prepareStatement("INSERT INTO bench_lines (id, amount) VALUES (?, ?)");
        insertBatch = c.prepareStatement("INSERT INTO bench_lines (id, amount) VALUES (?, ?)");
        readThousand = c.prepareStatement("SELECT id, balance FROM bench_accounts ORDER BY id");
        statement = c.createStatement();
    }

    /** Inserted rows go between iterations, so that table growth does not drift the figures. */
    @Setup(Level.Iteration)
    public void emptyLines() throws SQLException {
        Connections.execute(c, "TRUNCATE TABLE bench_lines");
        nextId = 0;
    }

    @TearDown(Level.Trial)
    public void close() throws SQLException {
        Connections.execute(c, "DROP TABLE bench_lines", "DROP TABLE bench_accounts");
        c.close();
    }

    @Benchmark
    public long preparedSelectByKey() throws SQLException {
        key = key == 1000 ? 1 : key + 1;
        selectByKey.setInt(1, key);
        try (ResultSet rs = selectByKey.executeQuery()) {
            rs.next();
            return rs.getInt(1) + rs.getString(2).length() + rs.getLong(3);
        }
    }

    @Benchmark
    public int preparedInsert() throws SQLException {
        insert.setInt(1, nextId++);
        insert.setLong(2, 42);
        return insert.executeUpdate();
    }

    @Benchmark
    public boolean statementExecute() throws SQLException {
        return statement.execute("UPDATE bench_accounts SET balance = balance WHERE id = 1");
    }

    @Benchmark
    public int[] batchInsert100() throws SQLException {
        for (int i = 0; i < 100; i++) {
            insertBatch.setInt(1, nextId++);
            insertBatch.setLong(2, i);
            insertBatch.addBatch();
        }
        return insertBatch.executeBatch();
    }

    @Benchmark
    public void iterate1000Rows(Blackhole bh) throws SQLException {
        try (ResultSet rs = readThousand.executeQuery()) {
            while (rs.next()) {
                bh.consume(rs.getInt(1));
                bh.consume(rs.getLong(2));
            }
        }
    }
}
