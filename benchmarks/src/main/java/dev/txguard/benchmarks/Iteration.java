package dev.txguard.benchmarks;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * HotPath's iteration taken apart: one query, read to its end, returning 1 row or 1,000. The difference
 * between the two, over 999 rows, is a variant's time per row, and the 1-row time is nearly all its time
 * per query. H2 answers a repeated query with unchanged parameters from its last result, so neither
 * includes running the query. The stub database's row methods do nothing but are never inlined: what a
 * wrapper costs in front of a driver whose row methods are calls the JIT cannot see into.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class Iteration {

    @Param({"raw", "txguard", "agent", "agent-activations", "p6spy", "datasource-proxy"})
    public String variant;

    @Param({Connections.H2, Connections.STUB})
    public String database;

    private Connection c;
    private PreparedStatement oneRow;
    private PreparedStatement thousandRows;

    @Setup(Level.Trial)
    public void open() throws SQLException {
        c = Connections.open(variant, database);
        Connections.createAccounts(c, database);
        oneRow = upTo(1);
        thousandRows = upTo(1000);
    }

    /** The same SQL for both on H2, so that it does the same work per row and per query; the stub answers a
     * thousand rows to an ORDER BY and one otherwise. */
    private PreparedStatement upTo(int rows) throws SQLException {
        String order = database.equals(Connections.STUB) && rows == 1 ? "" : " ORDER BY id";
        PreparedStatement p = c.prepareStatement("SELECT id, balance FROM bench_accounts WHERE id <= ?" + order);
        p.setInt(1, rows);
        return p;
    }

    @TearDown(Level.Trial)
    public void close() throws SQLException {
        Connections.execute(c, "DROP TABLE bench_accounts");
        c.close();
    }

    /* The loop of HotPath.iterate1000Rows, written out in each method so that each compiles as that one does. */

    @Benchmark
    public void iterate1Row(Blackhole bh) throws SQLException {
        try (ResultSet rs = oneRow.executeQuery()) {
            while (rs.next()) {
                bh.consume(rs.getInt(1));
                bh.consume(rs.getLong(2));
            }
        }
    }

    @Benchmark
    public void iterate1000Rows(Blackhole bh) throws SQLException {
        try (ResultSet rs = thousandRows.executeQuery()) {
            while (rs.next()) {
                bh.consume(rs.getInt(1));
                bh.consume(rs.getLong(2));
            }
        }
    }
}
