// Package samples holds small import files for the sample plan (plans/hanoi-2021), one valid
// and one invalid of each kind; its test checks them with the importer's own file check, so
// that they keep importing (or being refused) as README "Sample files" says.
package samples
