#pragma once
// A private temporary directory, removed with everything in it when the object dies.
#include <string>
#include <string_view>

namespace baton::test {

class TempDir {
  public:
    TempDir();  // throws std::runtime_error when mkdtemp fails
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string file(std::string_view name) const;  // path()/name
    // Writes `content` to path()/name and returns the full path.
    std::string write(std::string_view name, std::string_view content) const;

  private:
    std::string path_;
};

std::string read_file_text(const std::string& path);                      // "" when unreadable
void write_file_text(const std::string& path, std::string_view content);  // throws on failure

}  // namespace baton::test
