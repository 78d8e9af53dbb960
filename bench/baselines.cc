#include "bench/baselines.h"

#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "jobledger/event_json.h"
#include "ledger/internal/codec.h"
#include "ledger/internal/keys.h"

#if JOBLEDGER_BENCH_SQLITE
#include <sqlite3.h>
#endif
#if JOBLEDGER_BENCH_POSTGRES
#include <libpq-fe.h>
#endif

namespace jobledger::bench {

void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "jobledger_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

RawDb::RawDb(const std::string& path) {
  rocksdb::DBOptions options;
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(options, path, &names).ok()) Die("raw open", DataLossError(path));
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  if (!rocksdb::DB::OpenForReadOnly(options, path, descriptors, &handles_, &db_).ok()) {
    Die("raw open", DataLossError(path));
  }
  for (auto* h : handles_) {
    if (h->GetName() == internal::kEventsFamily) events_ = h;
  }
}

RawDb::~RawDb() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  delete db_;
}

uint64_t RawDb::ScanDecodeFold(bool decode) {
  uint64_t events = 0;
  std::unordered_map<std::string, std::array<int64_t, 9>> counts;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++events;
    if (!decode) continue;
    std::string_view value(it->value().data(), it->value().size());
    StatusOr<Event> e = internal::DecodeEvent(value.substr(sizeof(Hash)), events);
    if (!e.ok()) Die("raw decode", e.status());
    if (const auto* q = std::get_if<ExecutionQueued>(&e->body)) {
      ++counts[q->job_id][static_cast<size_t>(ExecutionStatus::kQueued)];
    } else if (const auto* c = std::get_if<ExecutionStatusChanged>(&e->body)) {
      auto& job = counts[c->job_id];
      --job[static_cast<size_t>(c->from)];
      ++job[static_cast<size_t>(c->to)];
    }
  }
  return events;
}

void RawDb::SeekThenGet(uint64_t seq) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  const std::string key = internal::EventKey(seq);
  it->Seek(key);
  std::string value;
  if (!db_->Get(rocksdb::ReadOptions(), events_, key, &value).ok()) Die("raw get", DataLossError(key));
}

void RawDb::ForEachEvent(uint64_t limit,
                         const std::function<void(std::string_view, std::string_view)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid() && n < limit; it->Next(), ++n) {
    fn(std::string_view(it->key().data(), it->key().size()),
       std::string_view(it->value().data(), it->value().size()));
  }
}

double RawPut(RawDb& source, const std::string& path, uint64_t count, size_t batch, bool sync) {
  std::vector<std::pair<std::string, std::string>> kv;
  kv.reserve(count);
  source.ForEachEvent(count, [&](std::string_view k, std::string_view v) { kv.emplace_back(k, v); });
  std::filesystem::remove_all(path);
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::Open(options, path, &db).ok()) Die("raw put open", DataLossError(path));
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  const auto start = Steady::now();
  rocksdb::WriteBatch wb;
  for (size_t i = 0; i < kv.size(); ++i) {
    wb.Put(kv[i].first, kv[i].second).PermitUncheckedError();
    if (wb.Count() >= batch || i + 1 == kv.size()) {
      if (!db->Write(wo, &wb).ok()) Die("raw put", DataLossError(path));
      wb.Clear();
    }
  }
  const double seconds = Seconds(start);
  delete db;
  std::filesystem::remove_all(path);
  return static_cast<double>(kv.size()) / seconds;
}

double RawPutLogRows(RawDb& source, const std::string& path, uint64_t count, size_t batch) {
  struct Rows {
    std::string key, value, job_key, thing_key;
  };
  std::vector<Rows> rows;
  rows.reserve(count);
  source.ForEachEvent(count, [&](std::string_view k, std::string_view v) {
    const uint64_t seq = rows.size() + 1;
    StatusOr<Event> e = internal::DecodeEvent(v.substr(sizeof(Hash)), seq);
    if (!e.ok()) Die("decode", e.status());
    Rows r{std::string(k), std::string(v), {}, {}};
    if (std::string_view job = JobIdOf(e->body); !job.empty()) {
      r.job_key = internal::StreamKey(internal::KeyPrefix::kJobStream, job, seq);
    }
    if (std::string_view thing = ThingNameOf(e->body); !thing.empty()) {
      r.thing_key = internal::StreamKey(internal::KeyPrefix::kThingStream, thing, seq);
    }
    rows.push_back(std::move(r));
  });
  std::filesystem::remove_all(path);
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"job_stream", rocksdb::ColumnFamilyOptions()},
      {"thing_stream", rocksdb::ColumnFamilyOptions()}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::Open(options, path, families, &handles, &db).ok()) Die("raw log rows open", DataLossError(path));
  const std::string kind(1, '\x01');
  rocksdb::WriteOptions wo;
  const auto start = Steady::now();
  rocksdb::WriteBatch wb;
  size_t in_batch = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    wb.Put(handles[0], rows[i].key, rows[i].value).PermitUncheckedError();
    if (!rows[i].job_key.empty()) wb.Put(handles[1], rows[i].job_key, kind).PermitUncheckedError();
    if (!rows[i].thing_key.empty()) wb.Put(handles[2], rows[i].thing_key, kind).PermitUncheckedError();
    if (++in_batch >= batch || i + 1 == rows.size()) {
      if (!db->Write(wo, &wb).ok()) Die("raw log rows put", DataLossError(path));
      wb.Clear();
      in_batch = 0;
    }
  }
  const double seconds = Seconds(start);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  delete db;
  std::filesystem::remove_all(path);
  return static_cast<double>(rows.size()) / seconds;
}

namespace {

// One event as the SQL baselines store it.
struct SqlRow {
  int64_t seq = 0;
  std::string job;
  std::string thing;
  int kind = 0;
  int64_t recorded_at = 0;
  std::string bytes;  // the stored canonical bytes (SQLite's payload)
  std::string json;   // the export line (PostgreSQL's jsonb payload)
};

std::vector<SqlRow> SqlRows(RawDb& source, uint64_t count, bool with_json) {
  std::vector<SqlRow> rows;
  rows.reserve(count);
  source.ForEachEvent(count, [&](std::string_view, std::string_view value) {
    SqlRow r;
    r.seq = static_cast<int64_t>(rows.size() + 1);
    Hash hash{};
    std::memcpy(hash.data(), value.data(), hash.size());
    StatusOr<Event> e = internal::DecodeEvent(value.substr(sizeof(Hash)), rows.size() + 1);
    if (!e.ok()) Die("decode", e.status());
    r.job = std::string(JobIdOf(e->body));
    r.thing = std::string(ThingNameOf(e->body));
    r.kind = static_cast<int>(KindOf(e->body));
    r.recorded_at = e->recorded_at_micros;
    r.bytes = std::string(value.substr(sizeof(Hash)));
    if (with_json) r.json = EventToJsonLine(*e, hash);
    rows.push_back(std::move(r));
  });
  return rows;
}

}  // namespace

#if JOBLEDGER_BENCH_SQLITE
StatusOr<double> SqliteAppend(RawDb& source, const std::string& path, uint64_t count, size_t group) {
  std::vector<SqlRow> rows = SqlRows(source, count, /*with_json=*/false);
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return UnavailableError("sqlite3_open " + path);
  auto exec = [&](const char* sql) -> Status {
    char* error = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      Status s = InternalError(std::string(sql) + ": " + (error ? error : "?"));
      sqlite3_free(error);
      return s;
    }
    return Status();
  };
  Status s = exec("PRAGMA journal_mode=WAL");
  if (s.ok()) s = exec("PRAGMA synchronous=FULL");
  if (s.ok()) {
    s = exec("CREATE TABLE events (seq INTEGER PRIMARY KEY, job TEXT, thing TEXT, kind INTEGER, "
             "recorded_at INTEGER, payload BLOB NOT NULL)");
  }
  if (s.ok()) s = exec("CREATE INDEX events_job ON events (job, seq)");
  if (s.ok()) s = exec("CREATE INDEX events_thing ON events (thing, seq)");
  sqlite3_stmt* insert = nullptr;
  if (s.ok() && sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", -1, &insert,
                                   nullptr) != SQLITE_OK) {
    s = InternalError("prepare insert");
  }
  const auto start = Steady::now();
  for (size_t i = 0; s.ok() && i < rows.size(); i += group) {
    s = exec("BEGIN");
    for (size_t j = i; s.ok() && j < std::min(rows.size(), i + group); ++j) {
      const SqlRow& r = rows[j];
      sqlite3_bind_int64(insert, 1, r.seq);
      if (r.job.empty()) {
        sqlite3_bind_null(insert, 2);
      } else {
        sqlite3_bind_text(insert, 2, r.job.data(), static_cast<int>(r.job.size()), SQLITE_STATIC);
      }
      if (r.thing.empty()) {
        sqlite3_bind_null(insert, 3);
      } else {
        sqlite3_bind_text(insert, 3, r.thing.data(), static_cast<int>(r.thing.size()), SQLITE_STATIC);
      }
      sqlite3_bind_int(insert, 4, r.kind);
      sqlite3_bind_int64(insert, 5, r.recorded_at);
      sqlite3_bind_blob(insert, 6, r.bytes.data(), static_cast<int>(r.bytes.size()), SQLITE_STATIC);
      if (sqlite3_step(insert) != SQLITE_DONE) s = InternalError(sqlite3_errmsg(db));
      sqlite3_reset(insert);
    }
    if (s.ok()) s = exec("COMMIT");
  }
  const double seconds = Seconds(start);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  if (!s.ok()) return s;
  return static_cast<double>(rows.size()) / seconds;
}
#else
StatusOr<double> SqliteAppend(RawDb&, const std::string&, uint64_t, size_t) {
  return UnavailableError("built without SQLite (install libsqlite3-dev and reconfigure)");
}
#endif

#if JOBLEDGER_BENCH_POSTGRES
namespace {

// The newest installed server's bin folder, or "".
std::string PostgresBin() {
  std::string best;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string bin = e.path().string() + "/bin";
    if (std::filesystem::exists(bin + "/postgres") && bin > best) best = bin;
  }
  return best;
}

int Run(const std::string& command) { return std::system(command.c_str()); }

}  // namespace

StatusOr<double> PostgresAppend(RawDb& source, const std::string& dir, uint64_t count, size_t group,
                                std::string* note) {
  const std::string bin = PostgresBin();
  if (bin.empty()) {
    return UnavailableError("PostgreSQL is not installed (apt-get install postgresql)");
  }
  std::vector<SqlRow> rows = SqlRows(source, count, /*with_json=*/true);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // The server refuses to run as root: run it as the postgres user then.
  std::string as = "";
  if (geteuid() == 0) {
    if (Run("chown postgres " + dir + " >/dev/null 2>&1") != 0) {
      return UnavailableError("cannot hand " + dir + " to the postgres user");
    }
    as = "runuser -u postgres -- ";
  }
  const std::string data = dir + "/data";
  const std::string log = dir + "/server.log";
  if (Run(as + bin + "/initdb -D " + data + " -A trust -U bench --no-sync >" + dir +
          "/initdb.log 2>&1") != 0) {
    return UnavailableError("initdb failed; see " + dir + "/initdb.log");
  }
  const std::string options = "-c listen_addresses='' -c unix_socket_directories='" + dir +
                              "' -c fsync=on -c synchronous_commit=on";
  if (Run(as + bin + "/pg_ctl -D " + data + " -l " + log + " -w -o \"" + options + "\" start >/dev/null") != 0) {
    return UnavailableError("the server did not start; see " + log);
  }
  auto stop = [&] {
    Run(as + bin + "/pg_ctl -D " + data + " -m immediate stop >/dev/null 2>&1");
  };
  PGconn* conn = PQconnectdb(("host=" + dir + " user=bench dbname=postgres").c_str());
  Status s;
  if (PQstatus(conn) != CONNECTION_OK) s = UnavailableError(PQerrorMessage(conn));
  auto exec = [&](const std::string& sql) -> Status {
    PGresult* r = PQexec(conn, sql.c_str());
    Status out;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) out = InternalError(sql + ": " + PQerrorMessage(conn));
    PQclear(r);
    return out;
  };
  if (s.ok()) {
    s = exec("CREATE TABLE events (seq bigint PRIMARY KEY, job text, thing text, kind smallint, "
             "recorded_at bigint, payload jsonb NOT NULL)");
  }
  if (s.ok()) s = exec("CREATE INDEX events_job ON events (job, seq)");
  if (s.ok()) s = exec("CREATE INDEX events_thing ON events (thing, seq)");
  // One multi-row INSERT per transaction, as batching event stores do.
  std::string sql = "INSERT INTO events VALUES ";
  for (size_t i = 0; i < group; ++i) {
    const size_t b = i * 6;
    sql += (i ? "," : "") + std::string("($") + std::to_string(b + 1) + ",$" + std::to_string(b + 2) +
           ",$" + std::to_string(b + 3) + ",$" + std::to_string(b + 4) + ",$" +
           std::to_string(b + 5) + ",$" + std::to_string(b + 6) + "::jsonb)";
  }
  std::vector<std::string> text;
  std::vector<const char*> values;
  const auto start = Steady::now();
  for (size_t i = 0; s.ok() && i + group <= rows.size(); i += group) {
    text.clear();
    values.clear();
    for (size_t j = i; j < i + group; ++j) {
      const SqlRow& r = rows[j];
      text.push_back(std::to_string(r.seq));
      text.push_back(r.job);
      text.push_back(r.thing);
      text.push_back(std::to_string(r.kind));
      text.push_back(std::to_string(r.recorded_at));
      text.push_back(r.json);
    }
    for (size_t k = 0; k < text.size(); ++k) {
      const bool null = (k % 6 == 1 || k % 6 == 2) && text[k].empty();
      values.push_back(null ? nullptr : text[k].c_str());
    }
    // A single statement is its own transaction: one commit, one WAL flush.
    PGresult* r = PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) s = InternalError(std::string("insert: ") + PQerrorMessage(conn));
    PQclear(r);
  }
  const double seconds = Seconds(start);
  const uint64_t written = rows.size() / group * group;
  PQfinish(conn);
  stop();
  std::filesystem::remove_all(dir);
  if (!s.ok()) return s;
  *note = "PostgreSQL " + bin.substr(std::string("/usr/lib/postgresql/").size(),
                                     bin.size() - std::string("/usr/lib/postgresql/").size() - 4) +
          ", fsync+synchronous_commit on, " + std::to_string(group) + " rows/transaction";
  return static_cast<double>(written) / seconds;
}
#else
StatusOr<double> PostgresAppend(RawDb&, const std::string&, uint64_t, size_t, std::string*) {
  return UnavailableError("built without libpq (install libpq-dev and reconfigure)");
}
#endif

}  // namespace jobledger::bench
