"""What a clerk and a reviewer read: table shapes, HTML, PNG, Excel and Word, sentences, the year index, the validation report."""
