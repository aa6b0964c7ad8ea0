// Separate compilation of Asio, Asio SSL and Beast: their non-template code is compiled here
// once instead of in every translation unit (BOOST_ASIO_SEPARATE_COMPILATION).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
