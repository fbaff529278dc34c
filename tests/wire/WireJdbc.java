// The PostgreSQL JDBC driver against `plexus serve` (run by test_wire_jdbc.py with Java 17's
// single-file source launcher). Prints one line per answer, "key<TAB>value", for the test to
// check: DatabaseMetaData (getSchemas, getTables, getColumns), the cross-domain query, a
// PreparedStatement with a parameter, nora's masked emails, and the SQLSTATE of a write.
import java.sql.*;
import java.util.Properties;

public class WireJdbc {
  static void print(String key, String value) { System.out.println(key + "\t" + value); }

  static String rows(ResultSet rs) throws SQLException {
    StringBuilder out = new StringBuilder();
    int n = rs.getMetaData().getColumnCount();
    while (rs.next()) {
      if (out.length() > 0) out.append(";");
      for (int i = 1; i <= n; i++) {
        if (i > 1) out.append("|");
        out.append(rs.getString(i));
      }
    }
    return out.toString();
  }

  public static void main(String[] args) throws Exception {
    // args: port user password crossSql paramSql emailSql customerId
    Properties props = new Properties();
    props.setProperty("user", args[1]);
    props.setProperty("password", args[2]);
    props.setProperty("sslmode", "require");
    props.setProperty("prepareThreshold", "1");  // named server-side statements at once
    String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/plexus";
    try (Connection c = DriverManager.getConnection(url, props)) {
      DatabaseMetaData md = c.getMetaData();
      print("product", md.getDatabaseProductName() + " " + md.getDatabaseProductVersion());
      StringBuilder schemas = new StringBuilder();
      try (ResultSet rs = md.getSchemas()) {
        while (rs.next()) schemas.append(rs.getString("TABLE_SCHEM")).append(";");
      }
      print("schemas", schemas.toString());
      StringBuilder tables = new StringBuilder();
      try (ResultSet rs = md.getTables(null, null, "%", new String[] {"TABLE", "VIEW"})) {
        while (rs.next()) {
          tables.append(rs.getString("TABLE_SCHEM")).append(".").append(rs.getString("TABLE_NAME"))
              .append(";");
        }
      }
      print("tables", tables.toString());
      StringBuilder columns = new StringBuilder();
      try (ResultSet rs = md.getColumns(null, "customers.customers", "customers", "%")) {
        while (rs.next()) {
          columns.append(rs.getString("COLUMN_NAME")).append(":").append(rs.getString("TYPE_NAME"))
              .append(";");
        }
      }
      print("columns", columns.toString());
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(args[3])) {
        print("cross", rows(rs));
      }
      try (PreparedStatement ps = c.prepareStatement(args[4].replace("$1", "?"))) {
        for (int i = 0; i < 3; i++) {  // executed again: the named statement is reused
          ps.setInt(1, Integer.parseInt(args[6]));
          try (ResultSet rs = ps.executeQuery()) {
            print("param" + i, rows(rs));
          }
        }
      }
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(args[5])) {
        print("emails", rows(rs));
      }
      try (Statement st = c.createStatement()) {
        st.executeUpdate("DELETE FROM customers.customers.customers");
        print("write", "accepted");
      } catch (SQLException e) {
        print("write", e.getSQLState());
      }
    }
  }
}
