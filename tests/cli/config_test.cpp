// Configs: the schema's defaults, --set, the resolved dump, and one clear message for every kind of bad input.
#include <vigil/cli/config.hpp>

#include <gtest/gtest.h>

#include "usage_error.hpp"

#include <filesystem>

namespace vigil::cli {
namespace {

std::string parse_error(const std::string& text, const std::vector<std::string>& sets = {}) {
  return error_of([&] { parse_config(text, "cfg.toml", sets); });
}

TEST(Config, DefaultsFillEveryKeyAndTheDumpRoundTrips) {
  const Config config = parse_config("[optim]\nlr = 0.5\n", "cfg.toml");
  EXPECT_EQ(config.get_float("optim.lr"), 0.5);
  EXPECT_EQ(config.get_string("optim.name"), "adam");
  EXPECT_EQ(config.get_ints("model.hidden"), (std::vector<std::int64_t>{256, 128}));
  EXPECT_EQ(config.get_string("data.path"), "/usr/share/datasets/fashion-mnist");  // filled for fashion-mnist
  EXPECT_EQ(config.origin("optim.lr"), "cfg.toml line 2");
  const std::string dumped = config.to_toml();
  for (const KeySpec& spec : schema()) EXPECT_NE(dumped.find(spec.key.substr(spec.key.find('.') + 1) + " = "), std::string::npos) << spec.key;
  EXPECT_EQ(parse_config(dumped, "config.toml").to_toml(), dumped);
}

TEST(Config, SetOverridesAreTypedByTheSchema) {
  const Config config = parse_config("[optim]\nlr = 0.5\n", "cfg.toml",
                                     {"optim.lr=0.01", "model.hidden=[64, 32]", "optim.nesterov=false",
                                      "run.metrics=accuracy,macro_f1", "model.name=\"lenet5\""});
  EXPECT_EQ(config.get_float("optim.lr"), 0.01);
  EXPECT_EQ(config.get_ints("model.hidden"), (std::vector<std::int64_t>{64, 32}));
  EXPECT_EQ(config.get_strings("run.metrics"), (std::vector<std::string>{"accuracy", "macro_f1"}));
  EXPECT_EQ(config.get_string("model.name"), "lenet5");
  EXPECT_EQ(config.origin("optim.lr"), "--set optim.lr=0.01");
  EXPECT_EQ(parse_error("", {"run.epochs=ten"}),
            "wrong type for \"run.epochs\" in --set run.epochs=ten: expected an integer, got \"ten\"");
  EXPECT_EQ(parse_error("", {"optim.lrr=1"}), "unknown key \"optim.lrr\" in --set optim.lrr=1; did you mean \"optim.lr\"?");
  EXPECT_EQ(parse_error("", {"optim.lr"}), "--set optim.lr: expected key=value (e.g. --set optim.lr=0.01)");
}

TEST(Config, AnIntegerIsANumber) {
  EXPECT_EQ(parse_config("[optim]\nlr = 1\n", "cfg.toml").get_float("optim.lr"), 1.0);
  EXPECT_EQ(parse_config("[loss]\nclass_weights = [1, 2.5]\n", "cfg.toml").get_floats("loss.class_weights"),
            (std::vector<double>{1.0, 2.5}));
}

TEST(ConfigErrors, UnknownKeySuggestsTheNearest) {
  EXPECT_EQ(parse_error("[run]\nepochs = 2\n\n[optim]\nname = \"sgd\"\n\nlrr = 0.1\n"),
            "unknown key \"optim.lrr\" in cfg.toml line 7; did you mean \"optim.lr\"?");
  EXPECT_EQ(parse_error("[optimizer]\nlr = 0.1\n"), "unknown section \"optimizer\" in cfg.toml line 1; did you mean \"optim\"?");
  EXPECT_NE(parse_error("lr = 0.1\n").find("unknown key \"lr\" in cfg.toml line 1; keys belong in sections"),
            std::string::npos);
}

TEST(ConfigErrors, MalformedTomlNamesLineAndColumn) {
  const std::string message = parse_error("[optim]\nlr = = 3\n");
  EXPECT_EQ(message.rfind("cfg.toml line 2 column", 0), 0u) << message;
  EXPECT_NE(message.find("malformed TOML"), std::string::npos) << message;
  EXPECT_EQ(parse_error("[optim\n").rfind("cfg.toml line 1 column", 0), 0u);
}

TEST(ConfigErrors, NonAsciiIsRejectedBeforeParsing) {
  EXPECT_EQ(parse_error("[run]\nname = \"caf\xc3\xa9\"\n"),
            "cfg.toml line 2 column 12: non-ASCII byte 0xc3; write configs in ASCII (names and paths included)");
  EXPECT_EQ(parse_error("# \xff\xfe\n"), "cfg.toml line 1 column 3: non-ASCII byte 0xff; write configs in ASCII (names and paths included)");
}

TEST(ConfigErrors, WrongTypeNamesExpectedAndGot) {
  EXPECT_EQ(parse_error("[optim]\nlr = \"fast\"\n"),
            "wrong type for \"optim.lr\" in cfg.toml line 2: expected a number, got a string");
  EXPECT_EQ(parse_error("[run]\nepochs = 2.5\n"),
            "wrong type for \"run.epochs\" in cfg.toml line 2: expected an integer, got a number");
  EXPECT_EQ(parse_error("[model]\nhidden = [1, \"a\"]\n"),
            "wrong type for \"model.hidden\" in cfg.toml line 2: a list must hold numbers only or strings only");
  EXPECT_EQ(parse_error("[model]\nhidden = 64\n"),
            "wrong type for \"model.hidden\" in cfg.toml line 2: expected a list of integers, got an integer");
}

TEST(ConfigErrors, OutOfRangeAndBadChoices) {
  EXPECT_EQ(parse_error("[optim]\nlr = -0.1\n"), "invalid value for \"optim.lr\" in cfg.toml line 2: must be > 0, got -0.1");
  EXPECT_EQ(parse_error("[model]\ndropout = 1.0\n"),
            "invalid value for \"model.dropout\" in cfg.toml line 2: must be in [0, 1), got 1.0");
  EXPECT_EQ(parse_error("[model]\nhidden = [64, 0]\n"),
            "invalid value for \"model.hidden\" in cfg.toml line 2: must be >= 1, got 0");
  EXPECT_EQ(parse_error("[optim]\nname = \"adamm\"\n"),
            "invalid value for \"optim.name\" in cfg.toml line 2: \"adamm\" is not one of sgd, adam, adamw, rmsprop, "
            "adagrad; did you mean \"adam\"?");
}

TEST(ConfigErrors, RulesAcrossKeys) {
  EXPECT_EQ(parse_error("[optim]\nname = \"adam\"\nnesterov = true\n"),
            "invalid value for \"optim.nesterov\" in cfg.toml line 3: Nesterov momentum is an sgd option, optim.name is "
            "\"adam\"");
  EXPECT_EQ(parse_error("[data]\ndataset = \"csv\"\n"),
            "invalid value for \"data.path\" in cfg.toml (default): data.dataset \"csv\" needs data.path");
  EXPECT_EQ(parse_error("[optim]\nbetas = [0.9]\n"),
            "invalid value for \"optim.betas\" in cfg.toml line 2: needs 2 values (beta1, beta2), got 1");
}

TEST(ConfigErrors, UnknownMetric) {
  EXPECT_EQ(parse_error("[run]\nmetrics = [\"accuracy\", \"f7\"]\n").rfind(
                "invalid value for \"run.metrics\" in cfg.toml line 2: ", 0),
            0u);
}

TEST(ConfigErrors, MissingFile) {
  EXPECT_EQ(error_of([] { load_config("/nonexistent/cfg.toml"); }),
            "cannot read config /nonexistent/cfg.toml: no such file, or not readable");
}

TEST(Configs, EveryShippedConfigParsesAndResolves) {
  const std::filesystem::path dir = std::filesystem::path(VIGIL_SOURCE_DIR) / "configs";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml") continue;
    ++count;
    const Config config = load_config(entry.path().string());
    EXPECT_EQ(parse_config(config.to_toml(), "resolved").to_toml(), config.to_toml()) << entry.path();
  }
  EXPECT_GE(count, 7);
}

}  // namespace
}  // namespace vigil::cli
