// The file readers on small files written here (and Fashion-MNIST's test set when installed): what they load, and
// that each malformed file throws an Error naming the file and the record, line or field.
#include <vigil/data/cifar.hpp>
#include <vigil/data/csv.hpp>
#include <vigil/data/idx.hpp>
#include <vigil/data/npy.hpp>
#include <vigil/data/preprocess.hpp>

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace vigil::data {
namespace {

// Named by process id, so that concurrent test processes (ctest -j) never share a file.
std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("vigil_readers_test_" + std::to_string(::getpid()) + "_" + name)).string();
}

std::string write_text(const std::string& name, const std::string& text) {
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string write_bytes(const std::string& name, const std::vector<unsigned char>& bytes) {
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// The message of the Error that `load` throws (fails the test if none).
template <class F>
std::string error_of(F&& load) {
  try {
    load();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

void expect_mentions(const std::string& msg, std::initializer_list<std::string> parts) {
  for (const auto& part : parts) EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
}

std::int64_t label_of(const Example& e) { return *e.target.data<std::int64_t>(); }

// ---- IDX ----

std::vector<unsigned char> idx_images(unsigned count) {
  std::vector<unsigned char> bytes{0, 0, 0x08, 3, 0, 0, 0, static_cast<unsigned char>(count), 0, 0, 0, 2, 0, 0, 0, 2};
  for (unsigned i = 0; i < 4 * count; ++i) bytes.push_back(static_cast<unsigned char>(i * 17));
  return bytes;
}

std::vector<unsigned char> idx_labels(unsigned count) {
  std::vector<unsigned char> bytes{0, 0, 0x08, 1, 0, 0, 0, static_cast<unsigned char>(count)};
  for (unsigned i = 0; i < count; ++i) bytes.push_back(static_cast<unsigned char>(i % 10));
  return bytes;
}

TEST(IdxDataset, LoadsAPairAsScaledImagesAndLabels) {
  const IdxDataset ds(write_bytes("img", idx_images(3)), write_bytes("lbl", idx_labels(3)));
  ASSERT_EQ(ds.size(), 3);
  const Example e = ds.get(1);
  EXPECT_EQ(e.input.shape(), (Shape{1, 2, 2}));
  EXPECT_FLOAT_EQ(e.input.to_vector()[0], 68.0f / 255.0f);
  EXPECT_EQ(label_of(e), 1);
  EXPECT_THROW((void)ds.get(3), IndexError);
}

TEST(IdxDataset, CountMismatchNamesBothFilesAndCounts) {
  const std::string images = write_bytes("img3", idx_images(3)), labels = write_bytes("lbl2", idx_labels(2));
  expect_mentions(error_of([&] { (void)IdxDataset(images, labels); }), {images, labels, "3 images", "2 labels"});
  // Labels where images belong: the wrong rank is named.
  expect_mentions(error_of([&] { (void)IdxDataset(labels, labels); }), {labels, "[N, H, W]"});
}

TEST(FashionMnist, TestSetLoadsWhenInstalled) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << dir << " is not installed";
  const FashionMnist ds(dir, false);
  ASSERT_EQ(ds.size(), 10000);
  const Example e = ds.get(0);
  EXPECT_EQ(e.input.shape(), (Shape{1, 28, 28}));
  EXPECT_EQ(label_of(e), 9);  // the first test image is an ankle boot
  const auto pixels = e.input.to_vector();
  EXPECT_GE(*std::min_element(pixels.begin(), pixels.end()), 0.0f);
  EXPECT_LE(*std::max_element(pixels.begin(), pixels.end()), 1.0f);
  // The test set's pixel statistics, as published for Fashion-MNIST (mean 0.2868, std 0.3524 on [0, 1]).
  const Standardizer s = Standardizer::fit(ds, StatAxis::PerChannel);
  EXPECT_NEAR(s.mean().item(), 0.2868, 1e-3);
  EXPECT_NEAR(s.std().item(), 0.3524, 1e-3);
  expect_mentions(error_of([] { (void)FashionMnist("/nonexistent-dir", true); }), {"/nonexistent-dir/train-images-idx3-ubyte.gz"});
}

// ---- CSV ----

TEST(CsvDataset, ReadsFeaturesAndALabelColumnByName) {
  const std::string path = write_text("ok.csv", "a, label ,b\r\n1,2,3.5\n\n-4,0,+5e1\n");
  const CsvDataset ds(path, {.label_column = "label"});
  ASSERT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.features().to_vector(), (std::vector<float>{1, 3.5f, -4, 50}));
  EXPECT_EQ(ds.feature_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(label_of(ds.get(0)), 2);
  EXPECT_EQ(ds.get(1).input.shape(), (Shape{2}));
}

TEST(CsvDataset, HeaderlessWithDelimiterLabelIndexAndRegression) {
  const std::string path = write_text("semi.csv", "0.5;1;2\n1.5;3;4\n");
  const CsvDataset first(path, {.delimiter = ';', .header = false, .label_index = 0, .target = CsvTarget::Regression});
  EXPECT_EQ(first.features().to_vector(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(first.targets().shape(), (Shape{2, 1}));
  EXPECT_EQ(first.get(1).target.to_vector(), (std::vector<float>{1.5f}));
  const CsvDataset last(path, {.delimiter = ';', .header = false});
  EXPECT_EQ(label_of(last.get(1)), 4);
}

TEST(CsvDataset, StringLabelsThroughALabelMap) {
  const std::string train = write_text("iris.csv", "x,y,species\n1,2,virginica\n3,4,setosa\n5,6,virginica\n");
  const CsvDataset ds(train, {.label_column = "species", .target = CsvTarget::ClassName});
  EXPECT_EQ(ds.label_map().names(), (std::vector<std::string>{"setosa", "virginica"}));
  EXPECT_EQ(label_of(ds.get(0)), 1);
  EXPECT_EQ(label_of(ds.get(1)), 0);
  // A validation file reuses the map; a name it lacks is an error naming the file, line and label.
  const std::string val = write_text("iris_val.csv", "x,y,species\n1,2,setosa\n3,4,versicolor\n");
  expect_mentions(error_of([&] {
                    (void)CsvDataset(val, {.label_column = "species", .target = CsvTarget::ClassName, .label_map = ds.label_map()});
                  }),
                  {val + ":3", "'versicolor'", "species"});
}

TEST(CsvDataset, ErrorsNameFileLineAndColumn) {
  const std::string bad_cell = write_text("bad_cell.csv", "a,b,label\n1,2,0\n3,x7,1\n");
  expect_mentions(error_of([&] { (void)CsvDataset(bad_cell); }), {bad_cell + ":3", "column 2", "('b')", "'x7'", "not a number"});

  const std::string ragged = write_text("ragged.csv", "a,b,label\n1,2,0\n3,1\n");
  expect_mentions(error_of([&] { (void)CsvDataset(ragged); }), {ragged + ":3", "ragged", "2 fields", "line 1 has 3"});

  const std::string bad_label = write_text("bad_label.csv", "1,2,0\n3,4,1.5\n");
  expect_mentions(error_of([&] { (void)CsvDataset(bad_label, {.header = false}); }), {bad_label + ":2", "'1.5'", "class index"});

  const std::string ok = write_text("cols.csv", "a,b\n1,0\n");
  expect_mentions(error_of([&] { (void)CsvDataset(ok, {.label_column = "target"}); }), {ok, "'target'", "a, b"});
  expect_mentions(error_of([&] { (void)CsvDataset(ok, {.label_index = 5}); }), {ok, "index 5", "2 columns"});
  expect_mentions(error_of([&] { (void)CsvDataset(write_text("empty.csv", "\n")); }), {"empty.csv", "empty"});
  const std::string missing = temp_path("missing.csv");
  std::filesystem::remove(missing);
  expect_mentions(error_of([&] { (void)CsvDataset(missing); }), {missing});
}

// ---- NumPy ----

// A .npy file with a hand-written header (version 1 or 2) and raw data bytes.
std::string write_npy_raw(const std::string& name, const std::string& header, const std::vector<unsigned char>& data,
                          int major = 1) {
  std::vector<unsigned char> bytes{0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(major), 0};
  const auto n = header.size();
  bytes.push_back(static_cast<unsigned char>(n & 0xff));
  bytes.push_back(static_cast<unsigned char>(n >> 8));
  if (major >= 2) bytes.insert(bytes.end(), {0, 0});
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), data.begin(), data.end());
  return write_bytes(name, bytes);
}

TEST(Npy, RoundTripsEveryWritableDType) {
  const bool flags[] = {true, false};
  const Tensor f32 = from_vector(std::vector<float>{1.5f, -2, 3, 4, 5, 6}, {2, 3});
  const Tensor tensors[] = {f32, raw::to_dtype(f32, DType::Float64), from_vector_i64(std::vector<std::int64_t>{-7, 1LL << 40, 3}, {3}),
                            from_vector_bool(flags, {2}), scalar_tensor(2.5f),
                            raw::transpose(f32, 0, 1)};
  int k = 0;
  for (const Tensor& t : tensors) {
    const std::string path = temp_path("rt" + std::to_string(k++) + ".npy");
    write_npy(path, t);
    const Tensor back = read_npy(path);
    EXPECT_EQ(back.shape(), t.shape());
    EXPECT_EQ(back.dtype(), t.dtype());
    EXPECT_TRUE(allclose(back, t, 0, 0)) << back << t;
  }
}

TEST(Npy, ReadsUint8AndInt32AsInt64AndVersion2Headers) {
  const Tensor u8 = read_npy(write_npy_raw("u1.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }\n", {0, 7, 255}));
  EXPECT_EQ(u8.dtype(), DType::Int64);
  EXPECT_EQ(u8.to_vector(), (std::vector<float>{0, 7, 255}));
  const Tensor i4 = read_npy(write_npy_raw("i4.npy", "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (1, 2)}",
                                           {0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0}, 2));
  EXPECT_EQ(i4.shape(), (Shape{1, 2}));
  EXPECT_EQ(i4.to_vector(), (std::vector<float>{-1, 2}));
}

TEST(Npy, RejectionsNameTheFileAndTheFix) {
  const std::vector<unsigned char> four(16, 0);
  const std::string big = write_npy_raw("big.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", four);
  expect_mentions(error_of([&] { (void)read_npy(big); }), {big, "big-endian", "'>f4'"});
  const std::string fortran = write_npy_raw("fortran.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", four);
  expect_mentions(error_of([&] { (void)read_npy(fortran); }), {fortran, "Fortran order", "ascontiguousarray"});
  const std::string complex = write_npy_raw("c8.npy", "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", four);
  expect_mentions(error_of([&] { (void)read_npy(complex); }), {complex, "'<c8'", "not supported"});
  const std::string no_shape = write_npy_raw("noshape.npy", "{'descr': '<f4', 'fortran_order': False, }", four);
  expect_mentions(error_of([&] { (void)read_npy(no_shape); }), {no_shape, "malformed .npy header", "'shape'"});
  const std::string bad_tuple = write_npy_raw("tuple.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", four);
  expect_mentions(error_of([&] { (void)read_npy(bad_tuple); }), {bad_tuple, "malformed", "integer extent"});
  const std::string truncated = write_npy_raw("trunc.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", four);
  expect_mentions(error_of([&] { (void)read_npy(truncated); }), {truncated, "truncated", "[3]", "24 data bytes", "16 follow"});
  const std::string magic = write_text("magic.npy", "NUMPY not really");
  expect_mentions(error_of([&] { (void)read_npy(magic); }), {magic, "not a .npy file"});
  const std::string cut_header = write_npy_raw("cuthdr.npy", "{'descr'", {});
  expect_mentions(error_of([&] { (void)read_npy(cut_header); }), {cut_header, "malformed"});
}

TEST(Npy, DatasetPairsInputsAndLabels) {
  const std::string x = temp_path("x.npy"), y = temp_path("y.npy"), y_short = temp_path("y_short.npy");
  write_npy(x, from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2}));
  write_npy(y, from_vector_i64(std::vector<std::int64_t>{2, 0, 1}, {3}));
  write_npy(y_short, from_vector_i64(std::vector<std::int64_t>{2, 0}, {2}));
  const NpyDataset ds(x, y);
  EXPECT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.get(2).input.to_vector(), (std::vector<float>{5, 6}));
  EXPECT_EQ(label_of(ds.get(0)), 2);
  expect_mentions(error_of([&] { (void)NpyDataset(x, y_short); }), {x, y_short, "[3, 2]", "[2]"});
}

// ---- CIFAR-10 ----

std::vector<unsigned char> cifar_records(int count) {
  std::vector<unsigned char> bytes;
  for (int r = 0; r < count; ++r) {
    bytes.push_back(static_cast<unsigned char>(r + 3));
    for (int i = 0; i < 3072; ++i) bytes.push_back(static_cast<unsigned char>((i / 1024) * 100 + r));
  }
  return bytes;
}

TEST(Cifar10, ReadsRecordsAcrossFiles) {
  const Cifar10 ds({write_bytes("c1.bin", cifar_records(2)), write_bytes("c2.bin", cifar_records(1))});
  ASSERT_EQ(ds.size(), 3);
  const Example e = ds.get(1);
  EXPECT_EQ(e.input.shape(), (Shape{3, 32, 32}));
  EXPECT_EQ(label_of(e), 4);
  const auto v = e.input.to_vector();
  EXPECT_FLOAT_EQ(v[0], 1.0f / 255.0f);            // red plane
  EXPECT_FLOAT_EQ(v[2048], 201.0f / 255.0f);       // blue plane
  EXPECT_EQ(label_of(ds.get(2)), 3);
}

TEST(Cifar10, MalformedFilesNameFileAndRecord) {
  auto cut = cifar_records(3);
  cut.erase(cut.end() - 100, cut.end());
  const std::string truncated = write_bytes("cut.bin", cut);
  expect_mentions(error_of([&] { (void)Cifar10({truncated}); }), {truncated, "truncated", "record 2", "2973 of its 3073"});
  auto bad = cifar_records(2);
  bad[3073] = 12;
  const std::string bad_label = write_bytes("badlabel.bin", bad);
  expect_mentions(error_of([&] { (void)Cifar10({bad_label}); }), {bad_label, "record 1", "label 12"});
  expect_mentions(error_of([] { (void)Cifar10("/nonexistent-cifar", false); }), {"/nonexistent-cifar/test_batch.bin"});
}

}  // namespace
}  // namespace vigil::data
