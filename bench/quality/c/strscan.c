/* Code-quality benchmark (bench/quality.ts), string scanning: the C twin of ../strscan.pop (a text of N lines,
 * default 800, built into one buffer, then scanned for words, vowels, digits and the occurrences of "the"). */
#include "rt.h"

static const char *const sentences[] = {
  "The quick brown fox jumps over the lazy dog 42 times.\n",
  "Then the other fox, rather bothered, went north by 7 paths.\n",
  "In 1999 they wrote the theory of these three theses.\n"
};

static int is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int is_vowel(char c) {
  return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'A' || c == 'E' || c == 'I' || c == 'O'
    || c == 'U';
}

static int count_occurrences(const char *text, int length, const char *word) {
  int n = 0, word_length = str_len(word);
  for (int i = 0; i + word_length <= length; i++) {
    int j = 0;
    while (j < word_length && text[i + j] == word[j]) j++;
    if (j == word_length) n++;
  }
  return n;
}

int main(int argc, char **argv) {
  int lines = argc > 1 ? int_of_string(argv[1]) : 800;
  int length = 0;
  for (int i = 0; i < lines; i++) length += str_len(sentences[i % 3]);
  char *text = alloc(length);
  int at = 0;
  for (int i = 0; i < lines; i++) {
    const char *s = sentences[i % 3];
    for (int j = 0; s[j]; j++) text[at++] = s[j];
  }
  int words = 0, vowels = 0, digits = 0, newlines = 0;
  int in_word = 0;
  for (int i = 0; i < length; i++) {
    char c = text[i];
    if (is_letter(c)) {
      if (!in_word) words++;
      in_word = 1;
      if (is_vowel(c)) vowels++;
    } else {
      in_word = 0;
      if (c >= '0' && c <= '9') digits++;
      else if (c == '\n') newlines++;
    }
  }
  print_string("bytes "); print_int(length); print_string(" lines "); print_int(newlines);
  print_string(" words "); print_int(words); print_string(" vowels "); print_int(vowels);
  print_string(" digits "); print_int(digits); print_string(" the "); print_int(count_occurrences(text, length, "the"));
  print_newline();
  flush();
  return 0;
}
